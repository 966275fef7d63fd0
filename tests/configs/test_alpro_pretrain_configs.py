"""configs/alpro pretraining: the prompter and ALPRO pretraining recipes (config_release/pretrain_{prompter,alpro}.json,
alpro.md §6), their WebVid2M + CC3M pipelines, the RandomSourceTrainLoop, and a short run of the tiny synthetic
prompter on generated data. Building the pretraining model needs AlproPretrainer: those checks skip until it exists."""
import copy
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import videoalign  # noqa: F401  (registers the modules)
from videoalign.datasets.synthetic import generate_synthetic_images
from videoalign.datasets.synthetic_pretrain import generate_synthetic_pretrain_files
from videoalign.datasets.transforms.temporal_randaugment import IMAGE_OPS
from videoalign.engine import VideoAlignRunner
from videoalign.registry import DATASETS, MODELS
from videoalign.testing import REPO_ROOT, make_tiny_synthetic, write_vocab
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'alpro')
PROMPTER = 'timesformer-b16-bert-base_webvid2m-cc3m-prompter.py'
PRETRAIN = 'timesformer-b16-bert-base_webvid2m-cc3m-pretrain.py'
TINY_PROMPTER = 'timesformer-micro-bert-micro_synthetic-prompter.py'
TINY_PRETRAIN = 'timesformer-micro-bert-micro_synthetic-pretrain.py'
FULL = (PROMPTER, PRETRAIN)
ALL = FULL + (TINY_PROMPTER, TINY_PRETRAIN)
CLIP_MEAN = [0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255]
CLIP_STD = [0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255]
VIDEO_STEPS = [
    'DecordInit', 'ALPROSampleFrames', 'DecordDecode', 'Resize', 'RandomCrop', 'TemporalConsistentRandAugment',
    'FormatShape'
]
IMAGE_STEPS = [
    'ImageDecode', 'RandomResizedCrop', 'Resize', 'Flip', 'TemporalConsistentRandAugment', 'ImageToClip', 'FormatShape'
]
BERT_WEIGHTS = 'videoalign://bert-base-uncased/weights'
VIT_INIT = dict(type='Pretrained', checkpoint='videoalign://timm/vit-base-p16-224_in1k')


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def pretrainer_missing() -> bool:
    init_default_scope('videoalign')
    return MODELS.get('AlproPretrainer') is None or MODELS.get('ALPROPrompter') is None


needs_pretrainer = pytest.mark.skipif(
    pretrainer_missing(),
    reason='AlproPretrainer / ALPROPrompter are not written yet (the lead\'s '
    'videoalign/models/algorithms/alpro/alpro_pretrainer.py)')


def loaders(cfg: Config) -> tuple:
    """The video and image loaders of a config's RandomSourceTrainLoop."""
    assert cfg.train_cfg.type == 'RandomSourceTrainLoop' and cfg.train_cfg.source_names == ('video', 'image')
    (images, ) = cfg.train_cfg.other_loaders
    return cfg.train_dataloader, images


@pytest.mark.parametrize('name', FULL)
def test_official_data_and_pipelines(name):
    cfg = load(name)
    check_config_keys(cfg)
    videos, images = loaders(cfg)
    assert (videos.batch_size, images.batch_size) == (16, 16) and cfg.train_cfg.max_epochs == 10
    assert videos.dataset.type == 'VideoTextRetrievalDataset' and videos.dataset.source == 'video'
    assert videos.dataset.ann_file == 'data/webvid2m/txt/train.jsonl'
    assert videos.dataset.data_prefix == dict(video='data/webvid2m/videos')
    assert images.dataset.type == 'ImageTextDataset' and images.dataset.ann_file == 'data/cc3m/txt/cc3m.json'
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    pem = name == PRETRAIN
    tail = ['PEMRandomBox', 'PackActionInputs'] if pem else ['PackActionInputs']
    video, image = videos.dataset.pipeline, images.dataset.pipeline
    assert [step.type for step in video] == VIDEO_STEPS + tail
    assert [step.type for step in image] == IMAGE_STEPS + tail
    # video: 4 'headtail' frames, square resize to 256, random 224 square crop, RandAugment(2, 5) on all frames
    assert (video[1].num_frames, video[1].mode) == (4, 'headtail')
    assert video[3].scale == (256, 256) and not video[3].keep_ratio and video[4].size == 224
    assert (video[5].num_ops, video[5].magnitude) == (2, 5) and 'ops' not in video[5]  # VIDEO_OPS
    # images: RandomResizedCrop(224, scale=(0.2, 1.0)), flip, RandomAugment(2, 7) over 8 ops, a static 4-frame clip
    assert image[1].area_range == (0.2, 1.0) and image[2].scale == (224, 224) and image[2].interpolation == 'bicubic'
    assert image[3].flip_ratio == 0.5 and image[5].num_frames == 4
    assert (image[4].num_ops, image[4].magnitude, tuple(image[4].ops), image[4].apply_prob,
            image[4].replace) == (2, 7, IMAGE_OPS, 0.5, True)
    keys = ('text', 'pem_box', 'source') if pem else ('text', 'source')
    for pipeline in (video, image):
        assert tuple(pipeline[-1].algorithm_keys) == keys
        if pem:
            assert pipeline[-2].patch_size == 16
        init_default_scope('videoalign')
        Compose(pipeline)


@pytest.mark.parametrize('name, accumulation', [(PROMPTER, 2), (PRETRAIN, 1)])
def test_optimisation_recipe(name, accumulation):
    cfg = load(name)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.betas, optimizer.eps) == ('AdamW', 1e-4, (0.9, 0.98), 1e-6)
    assert optimizer.weight_decay == 0.  # the official optimizer never receives config_release's 1e-3
    assert cfg.optim_wrapper.get('accumulative_counts', 1) == accumulation
    assert cfg.train_cfg.get('draw_every') is None  # one draw per optimizer step, as MetaLoader(accum_steps)
    assert cfg.optim_wrapper.clip_grad.max_norm == 20.
    warmup, decay = cfg.param_scheduler
    assert (warmup.begin, warmup.end, decay.begin, decay.end, decay.end_factor) == (0, 0.5, 0.5, 10, 0.)
    assert warmup.convert_to_iter_based and decay.convert_to_iter_based  # over the loop's epochs
    gpus = 8 if name == PROMPTER else 16
    assert cfg.auto_scale_lr.base_batch_size == gpus * 16 * accumulation == 256
    assert cfg.randomness.seed == 42 and cfg.model_wrapper_cfg.find_unused_parameters


def test_prompter_model():
    model = load(PROMPTER).model
    assert model.type == 'AlproRetrieval' and model.vtm_loss is None and model.inference.mode == 'vtc'
    assert model.visual_encoder.num_frames == 4 and model.visual_encoder.img_size == 224
    assert model.visual_encoder.init_cfg == VIT_INIT  # timm's ImageNet ViT-B/16, as the official run
    assert model.tokenizer.max_length == 30 and model.tokenizer.vocab == 'videoalign://bert-base-uncased/vocab'
    assert model.text_encoder.fusion_layer == 6
    assert model.text_encoder.init_cfg == dict(type='Pretrained', checkpoint=BERT_WEIGHTS)
    assert model.data_preprocessor.mean == pytest.approx(CLIP_MEAN)


@pytest.mark.parametrize('name, prompter, entities, num_entities', [
    (PRETRAIN, PROMPTER, 'data/alpro_pretrain/unigrams.txt', 1000),
    (TINY_PRETRAIN, TINY_PROMPTER, 'data/synthetic/synthetic_unigrams.txt', 16),
])
def test_pretrain_model_contract(name, prompter, entities, num_entities):
    cfg = load(name)
    check_config_keys(cfg)
    model = cfg.model
    assert model.type == 'AlproPretrainer' and model.visual_encoder.num_frames == 4
    assert model.text_encoder.type == 'ALPROBert' and model.tokenizer.type == 'ALPROTokenizer'
    assert (model.entities, model.num_entities) == (entities, num_entities)
    assert model.mlm_probability == 0.15
    assert model.pem_loss == dict(type='PEMLoss', ignore_threshold=0.2, ignore_rule='intended')
    # the same TimeSformer; only the student's starts from ImageNet (the prompter loads its run's checkpoint)
    assert model.prompter.type == 'ALPROPrompter' and 'init_cfg' not in model.prompter.visual_encoder
    student_visual = dict(model.visual_encoder)
    assert student_visual.pop('init_cfg', None) == (VIT_INIT if name == PRETRAIN else None)
    assert model.prompter.visual_encoder == student_visual
    # the prompter run's last checkpoint, in tools/train.py's default work_dir (or the one its header gives)
    prompter_cfg = load(prompter)
    assert model.prompter.init_cfg == dict(
        type='Pretrained',
        checkpoint=f'work_dirs/{osp.splitext(prompter)[0]}/epoch_{prompter_cfg.train_cfg.max_epochs}.pth')
    assert model.data_preprocessor.mean == pytest.approx(CLIP_MEAN)
    assert model.data_preprocessor.std == pytest.approx(CLIP_STD)
    if name == PRETRAIN:
        assert model.text_encoder.fusion_layer == 6 and model.tokenizer.max_length == 30
        assert model.text_encoder.init_cfg == dict(type='Pretrained', checkpoint=BERT_WEIGHTS)
    else:  # the tiny prompter's model
        assert model.text_encoder == prompter_cfg.model.text_encoder
        assert model.tokenizer == prompter_cfg.model.tokenizer


def test_tiny_configs_follow_the_recipes():
    prompter, pretrain = load(TINY_PROMPTER), load(TINY_PRETRAIN)
    for cfg, tail in ((prompter, ['PackActionInputs']), (pretrain, ['PEMRandomBox', 'PackActionInputs'])):
        check_config_keys(cfg)
        videos, images = loaders(cfg)
        assert videos.dataset.source == 'video' and images.dataset.type == 'ImageTextDataset'
        assert [s.type for s in videos.dataset.pipeline] == VIDEO_STEPS + tail
        assert [s.type for s in images.dataset.pipeline] == [s for s in IMAGE_STEPS if s != 'Flip'] + tail
        # no flip: it would swap "left" and "right" in the synthetic captions
        assert 'HorizontalFlip' not in videos.dataset.pipeline[5].ops
        for pipeline in (videos.dataset.pipeline, images.dataset.pipeline):
            init_default_scope('videoalign')
            Compose(pipeline)
    assert prompter.model.vtm_loss is None and prompter.optim_wrapper.accumulative_counts == 2
    assert pretrain.optim_wrapper.accumulative_counts == 1 and pretrain.val_cfg is None


@pytest.mark.parametrize('name', [PROMPTER, TINY_PROMPTER])
def test_prompter_models_build(name, tmp_path):
    cfg = load(name)
    cfg.model.tokenizer.vocab = str(tmp_path / 'vocab.txt')
    write_vocab(cfg.model.tokenizer.vocab, ['a video'])
    init_default_scope('videoalign')
    model = MODELS.build(cfg.model)
    assert model.vtm_loss is None and model.visual_encoder.num_frames == 4


@needs_pretrainer
@pytest.mark.parametrize('name', [PRETRAIN, TINY_PRETRAIN])
def test_pretrain_models_build(name, tmp_path):
    cfg = load(name)
    cfg.model.tokenizer.vocab = str(tmp_path / 'vocab.txt')
    write_vocab(cfg.model.tokenizer.vocab, ['a video of a person'])
    cfg.model.entities = str(tmp_path / 'unigrams.txt')
    with open(cfg.model.entities, 'w') as f:
        f.writelines(f'word{i} {2000 - i}\n' for i in range(cfg.model.num_entities))
    init_default_scope('videoalign')
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


# ----------------------------------------------------------------------------------------------------------------------
# the tiny synthetic configs on generated data


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> str:
    """A tiny synthetic dataset (2 training clips per class, 64 px) with its images, captions and unigrams."""
    root = make_tiny_synthetic(str(tmp_path_factory.mktemp('synthetic')), per_class=(2, 1, 1), size=64)
    generate_synthetic_images(root, show_progress=False)
    generate_synthetic_pretrain_files(root)
    return root


def on_synthetic(cfg: Config, root: str, work_dir: str) -> Config:
    """``cfg`` reading ``root`` instead of data/synthetic, with loaders in the main process and no evaluation."""
    cfg = copy.deepcopy(cfg)
    text = cfg.pretty_text.replace("'data/synthetic", f"'{root}")
    cfg = Config.fromstring(text, '.py')
    for loader in (cfg.train_dataloader, *cfg.train_cfg.other_loaders):
        loader.num_workers, loader.persistent_workers = 0, False
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, save_best=None)
    return cfg


def test_tiny_pipelines_on_synthetic_data(synthetic, tmp_path):
    cfg = on_synthetic(load(TINY_PRETRAIN), synthetic, str(tmp_path))
    init_default_scope('videoalign')
    videos, images = (
        DATASETS.build(loader.dataset) for loader in (cfg.train_dataloader, cfg.train_cfg.other_loaders[0]))
    for dataset, source in ((videos, 'video'), (images, 'image')):
        data = dataset[0]
        sample = data['data_samples']
        assert data['inputs'].shape == (1, 3, 4, 64, 64) and sample.source == source
        assert isinstance(sample.text, str) and sample.text
        top, left, height, width = sample.pem_box
        assert all(v % 16 == 0 for v in sample.pem_box) and top + height <= 64 and left + width <= 64
    clip = images[3]['inputs'][0]
    assert all(torch.equal(clip[:, t], clip[:, 0]) for t in range(4))  # a static clip


@pytest.fixture(scope='module')
def tiny_prompter(synthetic, tmp_path_factory) -> tuple:
    """One epoch of the tiny prompter config on the synthetic data: ``(runner, work_dir)``."""
    work_dir = str(tmp_path_factory.mktemp('tiny_prompter'))
    runner = VideoAlignRunner.from_cfg(on_synthetic(load(TINY_PROMPTER), synthetic, work_dir))
    runner.train()
    return runner, work_dir


def test_tiny_prompter_trains_an_epoch(tiny_prompter):
    runner, work_dir = tiny_prompter
    loop = runner.train_loop
    pairs = len(runner.train_dataloader.dataset)  # a sample per (clip, caption) pair; 20 images
    assert loop.epoch_length == math.ceil(pairs / 16 + 20 / 16) and runner.iter == loop.epoch_length
    log = open(osp.join(runner.log_dir, f'{osp.basename(runner.log_dir)}.log')).read()
    assert 'loss_vtc' in log and 'loss_vtm' not in log and 'source_video' in log and 'source_image' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


@needs_pretrainer
def test_tiny_pretraining_trains_an_epoch_from_the_prompter(synthetic, tiny_prompter, tmp_path):
    cfg = on_synthetic(load(TINY_PRETRAIN), synthetic, str(tmp_path))
    cfg.model.prompter.init_cfg.checkpoint = osp.join(tiny_prompter[1], 'epoch_1.pth')
    runner = VideoAlignRunner.from_cfg(cfg)
    runner.train()
    assert runner.iter == runner.train_loop.epoch_length
    log = open(osp.join(runner.log_dir, f'{osp.basename(runner.log_dir)}.log')).read()
    assert all(key in log for key in ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_pem', 'source_image'))
    # the prompter is the trained one, frozen
    prompter_state = torch.load(
        osp.join(tiny_prompter[1], 'epoch_1.pth'), map_location='cpu',
        weights_only=False)['state_dict']  # our own checkpoint
    torch.testing.assert_close(runner.model.prompter.vision_proj.weight, prompter_state['vision_proj.weight'])
