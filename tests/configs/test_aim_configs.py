"""configs/aim: every config builds at full size with AIM's parameter counts (aim.md §2.7), its pipelines run, and
the optimizer, the schedule and the FLOPs are the official ones."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS, PARAM_SCHEDULERS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'aim')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
CLIP_MEAN, CLIP_STD = [122.769, 116.74, 104.04], [68.493, 66.63, 70.321]


def _adapter(width: int) -> int:
    return 2 * width * (width // 4) + width // 4 + width  # D_fc1 + D_fc2, weights and biases


def _clip_visual_without_proj(width: int, layers: int, patch: int, grid: int) -> int:
    block = 4 * width * width + 4 * width + 2 * 2 * width + 8 * width * width + 5 * width
    return width * 3 * patch * patch + width + (grid * grid + 1) * width + 2 * width + layers * block + 2 * width


# config -> (width, layers, patch, frames, classes, temporal adapters, trainable M and total M of aim.md or None)
EXPECTED = {
    'vit-b16_k400.py': (768, 12, 16, 8, 400, 1, 10.97, 96.77),
    'vit-b16-16f_k400.py': (768, 12, 16, 16, 400, 1, None, None),
    'vit-b16-32f_k400.py': (768, 12, 16, 32, 400, 1, None, None),
    'vit-l14_k400.py': (1024, 24, 14, 8, 400, 1, 38.26, None),
    'vit-b16_sthv2.py': (768, 12, 16, 8, 174, 2, 14.34, None),
    'vit-b16-32f_diving48.py': (768, 12, 16, 32, 48, 1, None, None),
}

_MODELS = {}


def build(name: str):
    """The model of a config (built once, CPU, without loading CLIP weights)."""
    if name not in _MODELS:
        cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
        init_default_scope('videoalign')
        _MODELS[name] = MODELS.build(cfg.model)
    return _MODELS[name]


def test_every_config_is_listed():
    assert sorted(osp.basename(p) for p in CONFIGS) == sorted(EXPECTED)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_config_builds_with_the_official_counts(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    width, layers, patch, frames, classes, num_tadapter, trainable_m, total_m = EXPECTED[name]
    backbone = cfg.model.backbone
    assert backbone.num_frames == frames and backbone.drop_path_rate == 0.2
    assert backbone.block_cfg == dict(
        type='AIMBlock', adapter_scale=1.0 if num_tadapter == 2 else 0.5, num_tadapter=num_tadapter)
    assert not backbone.use_proj and backbone.use_temporal_embedding and 'out_type' not in backbone
    assert cfg.model.cls_head.num_classes == classes and cfg.model.cls_head.dropout_ratio == 0.5
    assert cfg.model.cls_head.average_clips == 'prob'
    assert cfg.model.cls_head.get('label_smooth_eps', 0) == (0.1 if 'sthv2' in name else 0)
    assert cfg.model.data_preprocessor.mean == CLIP_MEAN and cfg.model.data_preprocessor.std == CLIP_STD

    model = build(name)
    params = dict(model.named_parameters())
    total = sum(p.numel() for p in params.values())
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    adapters = layers * (2 + num_tadapter) * _adapter(width)
    head = classes * width + classes
    assert trainable == adapters + frames * width + 2 * width + head  # + temporal embedding and ln_post
    assert total == _clip_visual_without_proj(width, layers, patch, 224 // patch) + adapters + frames * width + head
    if trainable_m is not None:
        assert round(trainable / 1e6, 2) == trainable_m
    if total_m is not None:
        assert abs(total / 1e6 - total_m) / total_m < 0.005
    assert all(not p.requires_grad for n, p in params.items() if '.ln_1.' in n or '.attn.' in n or '.mlp.' in n)


def test_vit_b16_k400_counts_and_optimizer():
    model = build('vit-b16_k400.py')
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 10_966_672 and abs(trainable - 10_970_000) / 10_970_000 < 0.005  # aim.md: 10.97M
    assert sum(p.numel() for p in model.backbone.parameters()) == 96_456_960  # aim.md: 96.46M
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'vit-b16_k400.py'))
    init_default_scope('videoalign')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(optim_wrapper.optimizer, torch.optim.AdamW) and not optim_wrapper.clip_grad_kwargs
    by_decay = {}
    for group in optim_wrapper.optimizer.param_groups:
        assert group['lr'] == 3e-4 and group['betas'] == (0.9, 0.999)
        by_decay[group['weight_decay']] = by_decay.get(group['weight_decay'], 0) + sum(p.numel()
                                                                                       for p in group['params'])
    assert by_decay == {0.05: trainable - 2 * 768, 0.: 2 * 768}  # only ln_post is spared
    assert cfg.auto_scale_lr.base_batch_size == 64 and cfg.train_dataloader.batch_size == 8


def _mmcv_lr(epoch: int, it: int, epoch_length: int, max_epochs: int, base_lr: float = 3e-4) -> float:
    """mmcv 1.x: CosineAnnealing(min_lr=0) by epoch times a linear warm-up from 0.1 over 2.5 epochs by iteration."""
    lr = 0.5 * base_lr * (1 + math.cos(math.pi * epoch / max_epochs))
    warmup_iters = 2.5 * epoch_length
    if it < warmup_iters:
        lr *= 1 - (1 - it / warmup_iters) * (1 - 0.1)
    return lr


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step\\(\\)` before')
@pytest.mark.parametrize('name,max_epochs', [('vit-b16_k400.py', 30), ('vit-b16_sthv2.py', 50)])
def test_schedule_is_the_official_one(name, max_epochs):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    assert cfg.train_cfg.max_epochs == max_epochs
    epoch_length = 100
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=3e-4)
    wrapper = OptimWrapper(optimizer)
    by_iter, by_epoch = [], []
    for scheduler_cfg in cfg.param_scheduler:
        scheduler_cfg = dict(scheduler_cfg)
        scheduler_cls = PARAM_SCHEDULERS.get(scheduler_cfg.pop('type'))
        if scheduler_cfg.pop('convert_to_iter_based', False):
            by_iter.append(scheduler_cls.build_iter_from_epoch(wrapper, **scheduler_cfg, epoch_length=epoch_length))
        else:
            by_epoch.append(scheduler_cls(wrapper, **scheduler_cfg))
    worst = 0.
    for epoch in range(max_epochs):
        for i in range(epoch_length):
            expected = _mmcv_lr(epoch, epoch * epoch_length + i, epoch_length, max_epochs)
            worst = max(worst, abs(optimizer.param_groups[0]['lr'] - expected) / expected)
            optimizer.step()
            for scheduler in by_iter:
                scheduler.step()
        for scheduler in by_epoch:
            scheduler.step()
    # mmengine's LinearLR reaches the full lr one iteration before mmcv's warm-up: 1 / 250 iterations at most
    assert worst < 1 / (2.5 * epoch_length)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_pipelines_run(name, tiny_synthetic):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    frames = cfg.model.backbone.num_frames
    init_default_scope('videoalign')
    video = osp.join(tiny_synthetic, 'videos', 'train', 'move_left_0000.mp4')
    for split, views in (('train', 1), ('val', 1), ('test', 3)):
        pipeline = Compose(cfg[f'{split}_dataloader'].dataset.pipeline)
        out = pipeline(dict(filename=video, label=0, start_index=0, modality='RGB'))
        assert tuple(out['inputs'].shape) == (views, 3, frames, 224, 224), (split, tuple(out['inputs'].shape))
    sampler = cfg.train_dataloader.dataset.pipeline[1]
    if 'k400' in name:  # dense: 8x16, 16x8, 32x4 (a 128-frame span)
        assert sampler.type == 'SampleFrames' and sampler.clip_len * sampler.frame_interval == 128
    else:  # uniform segments
        assert sampler == dict(type='UniformSample', clip_len=frames)
    flips = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'Flip']
    assert (not flips) if 'sthv2' in name else flips == [dict(type='Flip', flip_ratio=0.5)]


def test_flops_per_view_of_vit_b16_8_frames():
    from videoalign.analysis import flops as get_flops
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'vit-b16_k400.py'))
    assert get_flops.shape_from_config(cfg) == (8, 224, 224)
    model = build('vit-b16_k400.py')
    result = get_flops.count_flops(model, get_flops.view_input_shape(model, 8, 224, 224), warmup=False)
    assert abs(result['flops'] / 1e9 - 202) / 202 < 0.03  # official: 606 GFLOPs over 3 views
    assert set(result['uncounted']) <= get_flops.ELEMENTWISE_OPS
