"""configs/alpro: the retrieval configs are the official recipes (config_release/{msrvtt,didemo}_ret.json, alpro.md §6)
and build the full-size model."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, write_vocab
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'alpro')
CLIP_MEAN = [0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255]
CLIP_STD = [0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255]
# config -> lr, text length, batch per GPU, epochs, gradient clip, DiDeMo paragraphs
RECIPES = {
    'timesformer-b16-bert-base_msrvtt-retrieval.py': (2.5e-5, 40, 8, 5, 5., False),
    'timesformer-b16-bert-base_didemo-retrieval.py': (4e-5, 50, 12, 10, 20., True),
}


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_retrieval_recipe(name):
    cfg = load(name)
    check_config_keys(cfg)
    lr, max_length, batch_size, epochs, max_norm, paragraph = RECIPES[name]
    model = cfg.model
    assert model.type == 'AlproRetrieval' and model.embed_dim == 256 and model.temperature == 0.07
    assert model.visual_encoder.num_frames == 8 and model.visual_encoder.img_size == 224
    assert model.text_encoder.fusion_layer == 6 and model.tokenizer.max_length == max_length
    assert model.tokenizer.vocab == 'videoalign://bert-base-uncased/vocab'
    assert model.data_preprocessor.mean == pytest.approx(CLIP_MEAN)
    assert model.data_preprocessor.std == pytest.approx(CLIP_STD)
    assert model.data_preprocessor.format_shape == 'NCTHW'
    assert cfg.load_from == 'videoalign://alpro/timesformer-b16-bert-base_pretrain'
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.betas, optimizer.eps) == ('AdamW', lr, (0.9, 0.98), 1e-6)
    assert optimizer.weight_decay == 0.  # the official optimizer never receives config_release's 1e-3
    assert cfg.optim_wrapper.clip_grad.max_norm == max_norm
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_dataloader.batch_size == batch_size
    warmup, decay = cfg.param_scheduler
    assert (warmup.end, decay.begin, decay.end, decay.end_factor) == (0.1 * epochs, 0.1 * epochs, epochs, 0.)
    assert (cfg.val_cfg.type, cfg.test_cfg.type) == ('RetrievalValLoop', 'RetrievalTestLoop')
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'VideoTextRetrievalDataset' and dataset.get('paragraph', False) == paragraph
        assert dataset.get('test_mode', False) == (split != 'train')
        sampler = next(step for step in dataset.pipeline if step.type == 'ALPROSampleFrames')
        assert (sampler.num_frames, sampler.mode) == (8, 'rand' if split == 'train' else 'uniform')
        resize = next(step for step in dataset.pipeline if step.type == 'Resize')
        assert resize.scale == (224, 224) and not resize.keep_ratio
        assert not any('Crop' in step.type or 'Flip' in step.type for step in dataset.pipeline)
        init_default_scope('videoalign')
        Compose(dataset.pipeline)


def test_zero_shot_config_only_tests():
    cfg = load('timesformer-b16-bert-base_msrvtt-retrieval-zeroshot.py')
    check_config_keys(cfg)
    assert cfg.train_dataloader is None and cfg.train_cfg is None and cfg.optim_wrapper is None
    assert cfg.load_from == 'videoalign://alpro/timesformer-b16-bert-base_pretrain'
    assert cfg.test_dataloader.dataset.ann_file == 'data/msrvtt_ret/txt/test.jsonl'


def test_full_size_model_builds_with_the_official_count(tmp_path):
    cfg = load('timesformer-b16-bert-base_msrvtt-retrieval.py')
    cfg.model.tokenizer.vocab = str(tmp_path / 'vocab.txt')
    write_vocab(cfg.model.tokenizer.vocab, ['a video'])
    init_default_scope('videoalign')
    model = MODELS.build(cfg.model)
    # the official AlproForVideoTextRetrieval (T=8) has 231,475,917, with two heads retrieval never uses: a 400-class
    # video head (307,600) and the MLM head (622,650: dense 768x768, LayerNorm, bias 30522; its decoder is tied)
    assert sum(p.numel() for p in model.parameters()) == 231_475_917 - 307_600 - 622_650 == 230_545_667
