"""mmaction2 1.2.0's ``BaseHead`` under bf16 autocast: scores that NumPy cannot take.

The defect: ``BaseHead.loss_by_feat`` (``mmaction/models/heads/base.py``) computes its ``top{k}_acc`` from
``cls_scores.detach().cpu().numpy()``. Under ``torch.autocast('cpu', dtype=torch.bfloat16)`` (or CUDA bf16 AMP) a
head's last linear layer or matrix product returns ``bfloat16`` scores, which NumPy has no type for: ``TypeError: Got
unsupported ScalarType BFloat16``. Every head built on ``BaseHead`` (mmaction2's ``I3DHead`` and all of
videoalign's heads) inherits it, so no bf16 training step runs. ``BaseHead.predict_by_feat`` stores the scores as
they come, so the predictions of a bf16 evaluation are ``bfloat16`` too, and every metric that turns them into NumPy
arrays (mmaction2's ``AccMetric`` and ``ConfusionMatrix``) fails the same way.

Reproduced with torch 2.14.1: mmaction2's ``I3DHead(num_classes=5, in_channels=8).loss`` on random features inside
``torch.autocast('cpu', dtype=torch.bfloat16)`` raised that ``TypeError``.

The fix (:func:`fix_bf16_head_scores`): ``loss_by_feat`` and ``predict_by_feat`` receive reduced-precision scores
(``bfloat16``, ``float16``) as ``float32``, so the accuracies and the stored predictions are computed in float32.
The loss is then computed from the same float32 scores; under autocast the cross-entropy already ran in float32, so a
hard-label loss is unchanged, and gradients flow back through the cast into the bf16 scores. Float32 and float64
scores pass through untouched. The originals stay reachable as ``__wrapped__``.
"""
import functools
import importlib
from types import ModuleType
from typing import Callable

import torch

HEAD_BASE_MODULE = 'mmaction.models.heads.base'
FULL_PRECISION = (torch.float32, torch.float64)


def to_full_precision(scores: torch.Tensor) -> torch.Tensor:
    """``scores`` as ``float32`` if they are a reduced-precision float (bf16, fp16), else unchanged.

    Args:
        scores (torch.Tensor): Class scores.

    Returns:
        torch.Tensor: Scores NumPy can convert; differentiable with respect to ``scores``.
    """
    if scores.is_floating_point() and scores.dtype not in FULL_PRECISION:
        return scores.float()
    return scores


def _scores_in_full_precision(method: Callable) -> Callable:
    """Wrap a ``BaseHead`` method ``(self, cls_scores, data_samples)`` so that it gets float32 scores.

    Args:
        method (Callable): mmaction2's ``loss_by_feat`` or ``predict_by_feat``.

    Returns:
        Callable: The wrapper, with ``method`` as its ``__wrapped__``.
    """

    @functools.wraps(method)
    def wrapper(self, cls_scores, data_samples, *args, **kwargs):
        if isinstance(cls_scores, torch.Tensor):
            cls_scores = to_full_precision(cls_scores)
        return method(self, cls_scores, data_samples, *args, **kwargs)

    return wrapper


def _patch_base_head(module: ModuleType) -> None:
    """Wrap ``loss_by_feat`` and ``predict_by_feat`` of ``module.BaseHead`` (once)."""
    base_head = module.BaseHead
    for name in ('loss_by_feat', 'predict_by_feat'):
        method = base_head.__dict__[name]
        if not hasattr(method, '__wrapped__'):
            setattr(base_head, name, _scores_in_full_precision(method))


def fix_bf16_head_scores() -> None:
    """Make mmaction2's ``BaseHead`` compute accuracies and predictions from float32 scores (idempotent)."""
    _patch_base_head(importlib.import_module(HEAD_BASE_MODULE))
