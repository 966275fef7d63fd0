"""Every head trains and predicts under bf16 autocast, and AccMetric scores its predictions (in float32).

mmaction2's ``BaseHead.loss_by_feat`` turned bf16 scores into NumPy (``TypeError: Got unsupported ScalarType
BFloat16``) and its ``predict_by_feat`` stored bf16 predictions; see ``videoalign/compat/mmaction_bf16.py``. Each head
type runs here inside a tiny model of its method: one ``train_step``, one ``val_step`` and one ``test_step``.
"""
import ast
import math
import os.path as osp
from typing import Dict, List, Sequence

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from videoalign.registry import METRICS, MODELS
from videoalign.testing import R3D_CONFIG, R3D_TINY_OPTIONS, REPO_ROOT, XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS

BF16 = dict(device_type='cpu', dtype=torch.bfloat16)
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


def tiny_model(head_type: str) -> torch.nn.Module:
    """The model of a config that uses ``head_type``, shrunk to the tiny size, with random weights.

    Args:
        head_type (str): A key of :data:`MODELS_BY_HEAD`.

    Returns:
        torch.nn.Module: The model.
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


def _record_score_dtypes(model: torch.nn.Module) -> list:
    """The dtypes of the class scores the head returns, one entry per head call."""
    dtypes = []
    model.cls_head.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
    return dtypes


def _check_predictions(predictions: list) -> None:
    assert len(predictions) == len(LABELS)
    for prediction in predictions:
        assert prediction.pred_score.dtype == torch.float32
        assert prediction.pred_score.shape[-1] == NUM_CLASSES and torch.isfinite(prediction.pred_score).all()


@pytest.mark.parametrize('head_type', list(MODELS_BY_HEAD))
def test_head_trains_and_predicts_under_bf16_autocast(head_type):
    model = tiny_model(head_type)
    batch = make_batch(MODELS_BY_HEAD[head_type][2])
    score_dtypes = _record_score_dtypes(model)
    optim_wrapper = OptimWrapper(torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3))
    model.train()
    with torch.autocast(**BF16):
        log_vars = model.train_step(batch, optim_wrapper)
    assert score_dtypes == [torch.bfloat16]  # the head really produced bf16 scores
    assert math.isfinite(float(log_vars['loss'].detach())) and 0 <= float(log_vars['top1_acc']) <= 1

    model.eval()
    with torch.no_grad(), torch.autocast(**BF16):  # as mmengine's ValLoop and TestLoop
        val_predictions = model.val_step(batch)
        test_predictions = model.test_step(batch)
    assert score_dtypes[1:] == [torch.bfloat16] * 2
    _check_predictions(val_predictions)
    _check_predictions(test_predictions)

    metric = METRICS.build(dict(type='AccMetric'))
    metric.process(batch, [prediction.to_dict() for prediction in val_predictions])
    results = metric.evaluate(len(LABELS))
    assert 0 <= results['acc/top1'] <= results['acc/top5'] <= 1
