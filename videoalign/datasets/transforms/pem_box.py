"""ALPRO's PEM crop box: a random box on the patch grid of the final frames, the same on all frames.

Official code (``salesforce/ALPRO`` ``src/datasets/dataset_pretrain_sparse.py``, called by ``PretrainCollator`` on
each sample's frames ``(T, C, H, W)`` with ``patch_size=16``):

.. code-block:: python

    def random_erase(input_img, patch_size, s_l=0.3, s_h=0.5, r_1=0.3, r_2=1/0.3, v_l=0, v_h=255):
        img_t, img_c, img_h, img_w = input_img.shape
        while True:
            s = np.random.uniform(s_l, s_h) * img_h * img_w
            r = np.random.uniform(r_1, r_2)
            w = int(np.sqrt(s / r))
            h = int(np.sqrt(s * r))
            left = np.random.randint(0, img_w)
            top = np.random.randint(0, img_h)
            w = w - w % patch_size
            h = h - h % patch_size
            left = left - left % patch_size
            top = top - top % patch_size
            if left + w <= img_w and top + h <= img_h:
                break
        ...   # the frames outside the box zeroed, the patch mask (see models/algorithms/alpro/pem_utils.py)

The draws here are the same (NumPy's global generator, the same calls in the same order), so ``np.random.seed``
gives the official box. One difference: a box that the snapping makes empty (a side shorter than a patch, impossible
at 224 px with 16 px patches and the default ranges) is drawn again, where the official code would keep it and divide
by zero when pooling its tokens.
"""
from typing import Dict, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS

__all__ = ['PEMRandomBox']


def _range(name: str, value: Sequence[float]) -> Tuple[float, float]:
    if len(value) != 2 or not 0 < value[0] <= value[1]:
        raise ValueError(f'{name} must be a (low, high) pair with 0 < low <= high, got {value!r}')
    return float(value[0]), float(value[1])


@TRANSFORMS.register_module()
class PEMRandomBox(BaseTransform):
    """Draw ALPRO's PEM crop box (the official ``random_erase``) on the final frames.

    The box has an area of ``U(area_range) * H * W`` and an aspect ratio ``height / width`` of ``U(aspect_range)``;
    its height and width are cut to ``int(sqrt(area * r))`` and ``int(sqrt(area / r))``, its top-left corner is drawn
    on the whole frame, then all four are snapped down to the ``patch_size`` grid; boxes that pass the frame (or are
    empty) are drawn again. Place it after the last transform that changes the frame size (Resize, the crops), so that
    ``img_shape`` is the size the model sees.

    The model blacks out the frames outside the box for the prompter
    (:func:`~videoalign.models.algorithms.alpro.pem_utils.zero_outside_box`) and pools the student's fused tokens of
    the patches inside it (:func:`~videoalign.models.algorithms.alpro.pem_utils.box_patch_mask`): the patch grid is
    ``(H // patch_size, W // patch_size)`` and the box covers the patch rows ``top // patch_size`` to
    ``(top + height) // patch_size - 1`` (columns alike).

    **Required keys:** ``img_shape`` ``(H, W)`` (set by mmaction2's Resize and crops).

    **Added keys:** ``pem_box``: ``(top, left, height, width)`` in pixels, ints, multiples of ``patch_size``. Pass it
    to the model with ``PackActionInputs(algorithm_keys=(..., 'pem_box'))`` (``data_sample.pem_box``).

    Args:
        patch_size (int): The video encoder's patch side in pixels; ``H`` and ``W`` must be multiples of it.
            Defaults to 16.
        area_range (Sequence[float]): ``(low, high)`` fractions of the frame area. Defaults to (0.3, 0.5).
        aspect_range (Sequence[float]): ``(low, high)`` of the ratio ``height / width``. Defaults to
            ``(0.3, 1 / 0.3)``.
        max_attempts (int): Draws before giving up (the official loop has no bound; at 224 px one draw in 7.5
            fits on average). Defaults to 10000.
    """

    def __init__(self,
                 patch_size: int = 16,
                 area_range: Sequence[float] = (0.3, 0.5),
                 aspect_range: Sequence[float] = (0.3, 1 / 0.3),
                 max_attempts: int = 10000) -> None:
        if isinstance(patch_size, bool) or not isinstance(patch_size, (int, np.integer)) or patch_size < 1:
            raise ValueError(f'patch_size must be an integer >= 1, got {patch_size!r}')
        self.patch_size = int(patch_size)
        self.area_range = _range('area_range', area_range)
        if self.area_range[1] > 1:
            raise ValueError(f'area_range holds fractions of the frame area, at most 1, got {area_range!r}')
        self.aspect_range = _range('aspect_range', aspect_range)
        if max_attempts < 1:
            raise ValueError(f'max_attempts must be at least 1, got {max_attempts}')
        self.max_attempts = int(max_attempts)

    def sample_box(self, img_h: int, img_w: int) -> Tuple[int, int, int, int]:
        """Draw one box on ``img_h`` x ``img_w`` frames with NumPy's global generator (the official draws).

        Args:
            img_h (int): Frame height, a multiple of ``patch_size``.
            img_w (int): Frame width, a multiple of ``patch_size``.

        Returns:
            tuple[int, int, int, int]: ``(top, left, height, width)`` in pixels.

        Raises:
            ValueError: If the frame is not on the patch grid.
            RuntimeError: If no box fits in ``max_attempts`` draws.
        """
        p = self.patch_size
        if img_h % p or img_w % p or img_h < p or img_w < p:
            raise ValueError(f'PEMRandomBox needs frames on the {p} px patch grid, got {img_h}x{img_w}')
        for _ in range(self.max_attempts):
            s = np.random.uniform(*self.area_range) * img_h * img_w
            r = np.random.uniform(*self.aspect_range)
            w = int(np.sqrt(s / r))
            h = int(np.sqrt(s * r))
            left = np.random.randint(0, img_w)
            top = np.random.randint(0, img_h)
            w, h = w - w % p, h - h % p
            left, top = left - left % p, top - top % p
            if left + w <= img_w and top + h <= img_h and w > 0 and h > 0:
                return int(top), int(left), int(h), int(w)
        raise RuntimeError(f'no box of area {self.area_range} and aspect ratio {self.aspect_range} on the {p} px grid '
                           f'fits in {img_h}x{img_w} frames after {self.max_attempts} draws')

    def transform(self, results: Dict) -> Dict:
        """Add ``pem_box`` to the sample.

        Args:
            results (dict): The sample, with ``img_shape``.

        Returns:
            dict: ``results`` with ``pem_box``.
        """
        if 'img_shape' not in results:
            raise KeyError(f'PEMRandomBox needs results["img_shape"] (set by Resize and the crops); got keys '
                           f'{sorted(results)}')
        img_h, img_w = (int(v) for v in results['img_shape'][:2])
        results['pem_box'] = self.sample_box(img_h, img_w)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(patch_size={self.patch_size}, area_range={self.area_range}, '
                f'aspect_range={self.aspect_range}, max_attempts={self.max_attempts})')
