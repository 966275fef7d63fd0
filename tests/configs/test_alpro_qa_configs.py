"""configs/alpro QA: the official recipes (config_release/msrvtt_qa.json, msvd_qa.json, alpro.md §6), the tiny
synthetic run, and the full-size model's parameter count against the official AlproForSequenceClassification's."""
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
# config -> data root, video extension, answers, epochs, clip norm (ALPRO's grad_norm on a sum of 2 gradients / 2)
RECIPES = {
    'timesformer-b16-bert-base_msrvtt-qa.py': ('data/msrvtt_qa', '.mp4', 1500, 10, 5. / 2),
    'timesformer-b16-bert-base_msvd-qa.py': ('data/msvd_qa', '.avi', 2423, 15, 20. / 2),
}
ALPRO_TYPES = ('what', 'who', 'how', 'where', 'when')
QA_KEYS = ('question', 'gt_answer', 'question_id', 'answer_type')

# Parameters of the official AlproForSequenceClassification (T=16, 1500 answers), counted from its code
# (bevt_alpro_build.md §3): 234,346,095 = TimeSformer-B T=16 121,572,496 (its unused 400-class head 307,600
# included) + BertModel without pooler or MLM head 108,891,648 + vision_proj / text_proj 393,728 + itm_head 1,538
# + temp 1 + classifier 3,486,684 (768 x 1536 + 1536, 1536 x 1500 + 1500). AlproQA leaves out the parts QA never uses:
# the video head and temp / projections / itm_head. The QA model has no MLM head to subtract (a BertModel, unlike the
# retrieval model's BertForMaskedLM).
OFFICIAL_QA = 234_346_095
UNUSED_VIDEO_HEAD = 768 * 400 + 400
UNUSED_HEADS = 2 * (768 * 256 + 256) + (768 * 2 + 2) + 1


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_qa_recipe(name):
    cfg = load(name)
    check_config_keys(cfg)
    data_root, video_ext, num_answers, epochs, max_norm = RECIPES[name]
    model = cfg.model
    assert model.type == 'AlproQA' and model.num_classes == num_answers and model.hidden_scale == 2
    assert model.answers == f'{data_root}/txt/train_ans2label.json'
    assert model.visual_encoder.num_frames == 16 and model.visual_encoder.img_size == 224
    assert model.visual_encoder.with_cp and model.visual_encoder.drop_path_rate == 0.1
    assert model.text_encoder.fusion_layer == 6 and model.tokenizer.max_length == 40
    assert model.tokenizer.vocab == 'videoalign://bert-base-uncased/vocab'
    assert model.data_preprocessor.mean == pytest.approx(CLIP_MEAN)
    assert model.data_preprocessor.std == pytest.approx(CLIP_STD)
    assert model.data_preprocessor.format_shape == 'NCTHW'
    assert cfg.load_from == 'videoalign://alpro/timesformer-b16-bert-base_pretrain'

    optim = cfg.optim_wrapper
    optimizer = optim.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.betas, optimizer.eps) == ('AdamW', 5e-5, (0.9, 0.98), 1e-6)
    assert optimizer.weight_decay == 0.  # the official optimizer never receives config_release's 1e-3
    assert optim.accumulative_counts == 2 and optim.clip_grad.max_norm == max_norm
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_dataloader.batch_size == 12
    warmup, decay = cfg.param_scheduler
    assert (warmup.end, decay.begin, decay.end, decay.end_factor) == (0.1 * epochs, 0.1 * epochs, epochs, 0.)
    assert warmup.convert_to_iter_based and decay.convert_to_iter_based
    assert cfg.default_hooks.checkpoint.save_best == 'qa/acc'
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'VideoQAAccuracy' and tuple(evaluator.answer_types) == ALPRO_TYPES

    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'VideoQADataset' and dataset.get('test_mode', False) == (split != 'train')
        assert dataset.ann_file == f'{data_root}/txt/{split}.jsonl'
        assert dataset.data_prefix.video == f'{data_root}/videos' and dataset.video_ext == video_ext
        assert dataset.ans2label == model.answers
        sampler = next(step for step in dataset.pipeline if step.type == 'ALPROSampleFrames')
        assert (sampler.num_frames, sampler.mode) == (16, 'rand' if split == 'train' else 'uniform')
        resize = next(step for step in dataset.pipeline if step.type == 'Resize')
        assert resize.scale == (224, 224) and not resize.keep_ratio
        augment = [step for step in dataset.pipeline if 'Augment' in step.type or 'Flip' in step.type]
        # AlproVideoQADataset's TemporalConsistentRandomAugment(N=2, M=5) over the pretraining's video operations
        assert augment == ([dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=5)]
                           if split == 'train' else [])
        assert not any('Crop' in step.type for step in dataset.pipeline)
        assert tuple(dataset.pipeline[-1].algorithm_keys) == QA_KEYS
        init_default_scope('videoalign')
        Compose(dataset.pipeline)


def test_tiny_synthetic_config():
    cfg = load('timesformer-micro-bert-micro_synthetic-qa.py')
    check_config_keys(cfg)
    assert cfg.model.type == 'AlproQA' and cfg.model.answers == 'data/synthetic/synthetic_ans2label.json'
    assert cfg.model.num_classes == 22 and cfg.model.tokenizer.vocab == 'data/synthetic/vocab.txt'
    assert cfg.load_from is None
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'VideoQADataset' and dataset.ann_file == f'data/synthetic/synthetic_{split}_qa.json'
        assert dataset.ans2label == cfg.model.answers and dataset.data_prefix.video == 'data/synthetic/videos'
        assert dataset.get('test_mode', False) == (split != 'train')
        # no augmentation: a horizontal flip would swap "move left" and "move right"
        assert not any('Augment' in step.type or 'Flip' in step.type for step in dataset.pipeline)
        sampler = next(step for step in dataset.pipeline if step.type == 'ALPROSampleFrames')
        assert sampler.num_frames == cfg.model.visual_encoder.num_frames == 8
    assert tuple(cfg.val_evaluator.answer_types) == ('color', 'shape', 'motion')


def test_full_size_model_builds_with_the_official_count(tmp_path):
    cfg = load('timesformer-b16-bert-base_msrvtt-qa.py')
    cfg.model.tokenizer.vocab = str(tmp_path / 'vocab.txt')
    write_vocab(cfg.model.tokenizer.vocab, ['what is it ?'])
    init_default_scope('videoalign')
    model = MODELS.build(cfg.model)  # builds before the answer file exists: num_classes sizes the classifier
    assert model.classifier[2].out_features == 1500 and model.visual_encoder.with_cp
    assert UNUSED_VIDEO_HEAD == 307_600 and UNUSED_HEADS == 395_267
    total = sum(p.numel() for p in model.parameters())
    assert total == OFFICIAL_QA - UNUSED_VIDEO_HEAD - UNUSED_HEADS == 233_643_228
    # MSVD-QA: 2423 answers instead of 1500
    assert total + (2423 - 1500) * (1536 + 1) == 235_061_879


def test_tiny_synthetic_config_runs_train_val_and_test(tmp_path):
    """A few iterations of the tiny config through mmengine's Runner, on 1 clip per class: the pipelines, the model
    and VideoQAAccuracy fit together (the training to convergence is the lead's run, configs/alpro/README.md)."""
    from mmengine.runner import Runner

    from videoalign.testing import make_tiny_synthetic

    data = make_tiny_synthetic(str(tmp_path / 'data'), per_class=(1, 1, 1), size=64)
    cfg = load('timesformer-micro-bert-micro_synthetic-qa.py')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.tokenizer.vocab = f'{data}/vocab.txt'
    cfg.model.answers = f'{data}/synthetic_ans2label.json'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=6, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            ann_file=f'{data}/synthetic_{split}_qa.json',
            data_prefix=dict(video=f'{data}/videos'),
            ans2label=cfg.model.answers)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint.update(interval=1, save_best=None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert set(metrics) == {'qa/acc', 'qa/color_acc', 'qa/shape_acc', 'qa/motion_acc'}
    assert all(0 <= value <= 100 for value in metrics.values())
