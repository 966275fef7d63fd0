"""mmaction2 1.2.0's ``ColorJitter`` under NumPy 2: a hue shift that overflows ``uint8``.

The defect: ``ColorJitter.adjust_hue`` (``mmaction/datasets/transforms/processing.py``) shifts the OpenCV hue
channel, a ``uint8`` array with values in ``[0, 180)``, with ``(hsv[..., 0] + offset) % 180`` where
``offset = int(factor * 255)`` is a Python int. Under NumPy 1, value-based casting computed a negative offset in
``int16`` (``uint8`` + ``int8`` promote to ``int16``), so the hue wrapped around correctly. NumPy 2 (NEP 50) keeps the
array's ``uint8`` and converts the Python int to it, and a negative int does not fit: ``OverflowError: Python integer
-11 out of bounds for uint8``. Hue factors are drawn from ``(-hue, hue)``, so about half the draws with a non-zero
offset fail.

Reproduced with numpy 2.3.5: the ``train_pipeline`` of ``configs/xclip/vit-b16-8f_k400.py`` (``ColorJitter`` with
``hue=0.1`` inside ``RandomApply(prob=0.8)``), composed in videoalign's scope and run on a 64-frame synthetic clip,
raised that error in 17 of 30 draws, and in 114 of 300 (38%; expected: 0.8 x P(factor <= -1/255) = 0.38). The
video is readable, so :class:`~videoalign.datasets.VideoDataset` re-raises the error, and training of every X-CLIP
config stops within its first iterations.

The fix: :func:`fix_color_jitter_hue` replaces ``ColorJitter.adjust_hue`` with one that shifts the hue by
:func:`shift_hue`, which computes what NumPy 1 computed, value for value (checked against numpy 1.26.4): a negative
offset in ``int16`` with a floor modulo, a non-negative one in ``uint8`` (which, like NumPy 1, wraps modulo 256 when
``hue + offset`` reaches 256, i.e. only for ``|factor| >= 0.3``). Where the original does not raise, the two return
identical images. The original stays reachable as ``ColorJitter.adjust_hue.__wrapped__``.
"""
import importlib
from types import ModuleType
from typing import Callable

import numpy as np

PROCESSING_MODULE = 'mmaction.datasets.transforms.processing'
HUE_PERIOD = 180  # OpenCV's 8-bit hue is in degrees / 2


def shift_hue(hue: np.ndarray, offset: int) -> np.ndarray:
    """``(hue + offset) % 180`` with NumPy 1's value-based casting of the Python int ``offset``.

    Args:
        hue (np.ndarray): The ``uint8`` hue channel of an OpenCV HSV image.
        offset (int): The shift, ``int(factor * 255)``.

    Returns:
        np.ndarray: The shifted hue, in the dtype NumPy 1 gave it (``uint8`` for a non-negative offset below 256,
        ``int16`` for a negative one); its values are in ``[0, 180)`` when ``hue`` was.
    """
    dtype = np.promote_types(hue.dtype, np.min_scalar_type(offset))  # NumPy 1's rule for an array and a scalar
    return (hue.astype(dtype, copy=False) + dtype.type(offset)) % HUE_PERIOD


def _numpy2_adjust_hue(original: Callable) -> Callable:
    """mmaction2's ``adjust_hue`` with the hue shifted by :func:`shift_hue`.

    Args:
        original (Callable): mmaction2's ``ColorJitter.adjust_hue``, kept as ``__wrapped__``.

    Returns:
        Callable: The replacement, to be installed as a staticmethod.
    """
    import cv2

    def adjust_hue(img: np.ndarray, factor: float) -> np.ndarray:
        """Shift the hue of an RGB image by ``factor`` of a full turn (mmaction2's method, NumPy-2-safe).

        Args:
            img (np.ndarray): RGB image ``(H, W, 3)``, any real dtype; clipped to ``[0, 255]``.
            factor (float): The hue shift, as drawn by ``ColorJitter``.

        Returns:
            np.ndarray: The ``float32`` RGB image.
        """
        img = np.clip(img, 0, 255).astype(np.uint8)
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = shift_hue(hsv[..., 0], int(factor * 255))
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        return img.astype(np.float32)

    adjust_hue.__wrapped__ = original
    adjust_hue.__qualname__ = 'ColorJitter.adjust_hue'
    return adjust_hue


def _patch_color_jitter(module: ModuleType) -> None:
    """Install the NumPy-2-safe ``adjust_hue`` on ``module.ColorJitter`` (once)."""
    color_jitter = module.ColorJitter
    if hasattr(color_jitter.adjust_hue, '__wrapped__'):
        return
    color_jitter.adjust_hue = staticmethod(_numpy2_adjust_hue(color_jitter.adjust_hue))


def fix_color_jitter_hue() -> None:
    """Make mmaction2's ``ColorJitter`` shift hues as under NumPy 1 (idempotent)."""
    _patch_color_jitter(importlib.import_module(PROCESSING_MODULE))
