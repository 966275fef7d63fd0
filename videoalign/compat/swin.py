"""mmaction2 1.2.0's ``SwinTransformer3D`` fails in ``init_weights`` without a ``pretrained`` file.

The defect: ``pretrained2d`` defaults to True, and ``init_weights`` then inflates the 2D checkpoint named by
``pretrained`` even when it is None: ``SwinTransformer3D(arch='tiny').init_weights()`` raises a ``TypeError``, so every
Runner that initialises a Video Swin built without a 2D checkpoint (BEVT's pretraining, tests) stops.

The fix (:func:`fix_swin_init_weights`): ``init_weights`` treats ``pretrained2d`` as False when ``pretrained`` is
None, i.e. it initialises as configured (``init_cfg``). The original stays reachable as ``__wrapped__``.
"""
import functools
import importlib
from types import ModuleType

SWIN_MODULE = 'mmaction.models.backbones.swin'


def _patch_swin(module: ModuleType) -> None:
    """Wrap ``module.SwinTransformer3D.init_weights`` (once)."""
    swin = module.SwinTransformer3D
    original = swin.init_weights
    if hasattr(original, '__wrapped__'):
        return

    @functools.wraps(original)
    def init_weights(self) -> None:
        if self.pretrained is None:
            self.pretrained2d = False  # nothing to inflate
        original(self)

    swin.init_weights = init_weights


def fix_swin_init_weights() -> None:
    """Make mmaction2's ``SwinTransformer3D.init_weights`` work without a ``pretrained`` file (idempotent)."""
    _patch_swin(importlib.import_module(SWIN_MODULE))
