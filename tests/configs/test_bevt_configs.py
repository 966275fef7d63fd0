"""configs/bevt: both fine-tuning configs build at full size with the parameter counts of the official models, and
their pipelines, loaders, schedule and hooks are the official recipes (bevt.md §7)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'bevt')
IMAGENET_MEAN, IMAGENET_STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
# config -> window, drop path, classes, parameters (bevt_alpro_build.md "Full-size figures"), head parameters,
# train batch per GPU, accumulation, test views (clips x crops), max_testing_views
EXPECTED = {
    'swin-b-32f_k400.py': ((8, 7, 7), 0.3, 400, 88_048_984, 410_000, 2, 4, 4 * 3, 4),
    'swin-b-32f_sthv2.py': ((16, 7, 7), 0.4, 174, 88_834_038, 178_350, 1, 8, 1 * 3, 2),
}
SAMPLERS = ('SampleFrames', 'UniformSample')

_MODELS = {}


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def build(name: str):
    """The model of a config (full size, CPU, constructed only: no checkpoint is loaded)."""
    if name not in _MODELS:
        init_default_scope('videoalign')
        _MODELS[name] = MODELS.build(load(name).model)
    return _MODELS[name]


def test_every_swin_b_finetune_config_is_listed():
    configs = [osp.basename(p) for p in glob.glob(osp.join(CONFIG_DIR, 'swin-b-*.py'))]
    assert sorted(c for c in configs if not c.endswith('-pretrain.py')) == sorted(EXPECTED)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_config_builds_with_the_official_counts(name):
    cfg = load(name)
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    window, drop_path, classes, total, head, *_ = EXPECTED[name]
    backbone = cfg.model.backbone
    assert backbone.type == 'SwinTransformer3D' and backbone.arch == 'base'
    assert backbone.patch_size == (2, 4, 4) and backbone.window_size == window
    assert backbone.drop_path_rate == drop_path and backbone.pretrained2d is False and backbone.out_indices == (3, )
    pretrained = [c for c in backbone.init_cfg if c.type == 'Pretrained']
    assert len(pretrained) == 1 and pretrained[0].prefix == 'backbone.'
    assert pretrained[0].checkpoint == 'videoalign://bevt/swin-b_joint-pretrain_k400-in1k_finetune-init' + (
        '-ssv2' if 'sthv2' in name else '')
    head_cfg = cfg.model.cls_head
    assert (head_cfg.type, head_cfg.in_channels, head_cfg.num_classes) == ('I3DHead', 1024, classes)
    assert head_cfg.dropout_ratio == 0.5 and head_cfg.spatial_type == 'avg' and head_cfg.average_clips == 'prob'
    assert head_cfg.get('label_smooth_eps', 0) == (0.1 if 'sthv2' in name else 0)
    assert cfg.model.data_preprocessor.mean == IMAGENET_MEAN and cfg.model.data_preprocessor.std == IMAGENET_STD

    model = build(name)
    assert sum(p.numel() for p in model.parameters()) == total
    assert sum(p.numel() for p in model.cls_head.parameters()) == head
    assert all(p.requires_grad for p in model.parameters())  # fine-tuning trains everything
    table = model.backbone.layers[0].blocks[0].attn.relative_position_bias_table
    assert tuple(table.shape) == ((2 * window[0] - 1) * 13 * 13, 4)  # 2535 rows, 5239 for (16, 7, 7)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_loaders_schedule_and_hooks(name):
    cfg = load(name)
    *_, batch, accumulation, _, max_views = EXPECTED[name]
    assert cfg.train_dataloader.batch_size * accumulation * 8 == 64  # 8 GPUs, 64 clips per optimizer step
    assert cfg.optim_wrapper.accumulative_counts == accumulation and cfg.train_dataloader.batch_size == batch
    # max_testing_views splits the views of one video
    assert cfg.val_dataloader.batch_size == cfg.test_dataloader.batch_size == 1
    assert cfg.model.test_cfg == dict(max_testing_views=max_views)
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=60, val_begin=1, val_interval=5)
    assert cfg.param_scheduler == [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2.5, convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', T_max=60, eta_min=0, by_epoch=True, begin=0, end=60)
    ]
    hooks = [h.type for h in cfg.custom_hooks]
    assert hooks == (['SkippedVideoHook', 'EMAHook'] if 'sthv2' in name else ['SkippedVideoHook'])
    if 'sthv2' in name:
        assert cfg.custom_hooks[1] == dict(type='EMAHook', momentum=0.0002, interval=1)
        assert cfg.train_dataloader.dataset.get('class_names') is None and cfg.num_classes == 174
    else:
        assert cfg.train_dataloader.dataset.class_names.endswith('label_map_k400.txt') and cfg.num_classes == 400


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_pipelines(name, tiny_synthetic):
    cfg = load(name)
    frames = cfg.num_frames
    assert frames == 32
    *_, views, _ = EXPECTED[name]
    init_default_scope('videoalign')
    video = osp.join(tiny_synthetic, 'videos', 'train', 'move_left_0000.mp4')
    for split, num_views, draws in (('train', 1, 3), ('val', 1, 1), ('test', views, 1)):
        steps = cfg[f'{split}_dataloader'].dataset.pipeline
        assert [step.clip_len for step in steps if step.type in SAMPLERS] == [frames]
        pipeline = Compose(steps)
        for _ in range(draws):  # RandAugment and random erasing draw their operations
            out = pipeline(dict(filename=video, label=0, start_index=0, modality='RGB'))
            assert tuple(out['inputs'].shape) == (num_views, 3, frames, 224, 224), (split, tuple(out['inputs'].shape))
    train = cfg.train_dataloader.dataset.pipeline
    flips = [t for t in train if t.type == 'Flip']
    if 'sthv2' in name:
        assert train[1] == dict(type='UniformSample', clip_len=frames) and not flips
        assert dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7) in train
        assert dict(type='RandomErasing', erase_prob=0.25, mode='const', fill_color=tuple(IMAGENET_MEAN)) in train
    else:
        assert train[1] == dict(type='SampleFrames', clip_len=frames, frame_interval=2, num_clips=1)
        assert flips == [dict(type='Flip', flip_ratio=0.5)]
