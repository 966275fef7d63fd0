"""Tiny random-weight recognizers of every method, one per head type, and a data batch for their steps."""
import ast
import os.path as osp
from typing import Dict, List, Sequence

import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..registry import MODELS
from ._utils import R3D_CONFIG, R3D_TINY_OPTIONS, REPO_ROOT, XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS

NUM_CLASSES = 5
CLASS_NAMES = ['move left', 'move right', 'grow', 'shrink', 'appear']
LABELS = [0, 3, 4]


def _config(name: str) -> str:
    return osp.join(REPO_ROOT, 'configs', name)


def _apply_options(cfg: Config, options: Sequence[str]) -> None:
    """Apply ``key=value`` options as ``--cfg-options`` would (values are Python literals)."""
    for option in options:
        key, value = option.split('=', 1)
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
        cfg.merge_from_dict({key: value})


def _xclip(cfg: Config) -> None:  # TextPromptHead with X-CLIP's video-specific prompt
    _apply_options(cfg, XCLIP_TINY_OPTIONS)
    cfg.model.cls_head.update(num_classes=NUM_CLASSES, class_names=CLASS_NAMES)


def _efficient_prompt(cfg: Config) -> None:  # LearnablePromptHead
    cfg.model.backbone.update(arch='tiny', num_frames=4, init_cfg=None)
    cfg.model.neck.update(num_frames=4, embed_dims=32, num_heads=2)
    cfg.model.cls_head.update(num_classes=NUM_CLASSES, in_channels=32, class_names=CLASS_NAMES)
    cfg.model.cls_head.text_encoder.update(arch='tiny', init_cfg=None)


def _aim(cfg: Config) -> None:  # FrameAverageHead
    cfg.model.backbone.update(arch='tiny', num_frames=4, init_cfg=None)
    cfg.model.cls_head.update(in_channels=64, num_classes=NUM_CLASSES)


def _dualpath(cfg: Config) -> None:  # DualPathHead
    cfg.model.backbone.update(arch='tiny', num_frames=16, init_cfg=None)
    cfg.model.cls_head.update(in_channels=64, num_classes=NUM_CLASSES)


def _r3d(cfg: Config) -> None:  # mmaction2's I3DHead
    _apply_options(cfg, R3D_TINY_OPTIONS)
    cfg.model.cls_head.update(num_classes=NUM_CLASSES)


# head type: (config, how to make its model tiny, one clip's (C, T, H, W))
MODELS_BY_HEAD = {
    'TextPromptHead': (XCLIP_QUICKSTART_CONFIG, _xclip, (3, 8, 56, 56)),
    'LearnablePromptHead': (_config('efficient_prompt/vit-b16-16f_hmdb51.py'), _efficient_prompt, (3, 4, 32, 32)),
    'FrameAverageHead': (_config('aim/vit-b16_k400.py'), _aim, (3, 4, 32, 32)),
    'DualPathHead': (_config('dualpath/vit-b16-16f_k400.py'), _dualpath, (3, 16, 32, 32)),
    'I3DHead': (R3D_CONFIG, _r3d, (3, 8, 56, 56)),
}


def tiny_recognizer(head_type: str) -> torch.nn.Module:
    """The model of a config that uses ``head_type``, shrunk to the tiny size, with random weights.

    Args:
        head_type (str): A key of :data:`MODELS_BY_HEAD`.

    Returns:
        torch.nn.Module: The model, built in the ``videoalign`` scope with seed 0.
    """
    path, shrink, _ = MODELS_BY_HEAD[head_type]
    cfg = Config.fromfile(path)
    shrink(cfg)
    assert cfg.model.cls_head.type == head_type
    init_default_scope('videoalign')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def make_batch(clip_shape: Sequence[int], labels: List[int] = LABELS) -> Dict:
    """A data batch as the loader makes it: one uint8 clip ``(1, C, T, H, W)`` and one data sample per label."""
    gen = torch.Generator().manual_seed(1)
    inputs = [torch.randint(0, 256, (1, *clip_shape), generator=gen, dtype=torch.uint8) for _ in labels]
    return dict(inputs=inputs, data_samples=[ActionDataSample().set_gt_label(label) for label in labels])
