"""ALPRO's RandAugment of clips: the same random operations, at the same strength, on every frame of a clip."""
import math
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torchvision.transforms.functional as F
from mmcv.transforms import BaseTransform
from torchvision.transforms import InterpolationMode

from ...registry import TRANSFORMS

#: The operations of ALPRO's video augmentation (``AlproPretrainSparseDataset``: WebVid clips).
VIDEO_OPS: Tuple[str, ...] = ('Identity', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX',
                              'TranslateY', 'Rotate', 'HorizontalFlip')
#: The operations of ALPRO's image augmentation (``PretrainImageTextDataset``: CC3M images).
IMAGE_OPS: Tuple[str, ...] = ('Identity', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY',
                              'Rotate')
#: The official magnitude scale (``MAX_LEVEL``), the fill of the geometric operations (``replace_value``) and the
#: translation at the maximum magnitude, in pixels (``translate_const``).
MAX_LEVEL, FILL, TRANSLATE_CONST = 10., (128., 128., 128.), 10.


def _affine(frames: torch.Tensor, **kwargs) -> torch.Tensor:
    """torchvision's affine warp with ALPRO's bilinear interpolation and grey fill."""
    params = dict(angle=0., translate=[0., 0.], scale=1., shear=[0., 0.])
    params.update(kwargs)
    return F.affine(frames, interpolation=InterpolationMode.BILINEAR, fill=list(FILL), **params)


def _shear_degrees(factor: float) -> float:
    """The torchvision shear angle of the official ``warpAffine`` shear ``[[1, factor], [0, 1]]`` (clockwise
    degrees, hence the sign)."""
    return -math.degrees(math.atan(factor))


#: name -> (level to argument, operation on (T, C, H, W) uint8 frames), after the official ``arg_dict`` and
#: ``func_dict`` (``src/datasets/randaugment.py``), the level being ``magnitude / MAX_LEVEL``.
OPS: Dict[str, Tuple[Callable[[float], float], Callable[[torch.Tensor, float], torch.Tensor]]] = {
    'Identity': (lambda level: 0., lambda x, arg: x),
    'Equalize': (lambda level: 0., lambda x, arg: F.equalize(x)),
    'Rotate': (lambda level: level * 30., lambda x, arg: _affine(x, angle=-arg)),  # official: counter-clockwise
    'Solarize': (lambda level: int(level * 256), lambda x, arg: F.solarize(x, arg)),
    'Color': (lambda level: level * 1.8 + .1, lambda x, arg: F.adjust_saturation(x, arg)),
    'Contrast': (lambda level: level * 1.8 + .1, lambda x, arg: F.adjust_contrast(x, arg)),
    'Brightness': (lambda level: level * 1.8 + .1, lambda x, arg: F.adjust_brightness(x, arg)),
    'Sharpness': (lambda level: level * 1.8 + .1, lambda x, arg: F.adjust_sharpness(x, arg)),
    'ShearX': (lambda level: level * .3, lambda x, arg: _affine(x, shear=[_shear_degrees(arg), 0.], center=[0, 0])),
    'ShearY': (lambda level: level * .3, lambda x, arg: _affine(x, shear=[0., _shear_degrees(arg)], center=[0, 0])),
    'TranslateX': (lambda level: level * TRANSLATE_CONST, lambda x, arg: _affine(x, translate=[-arg, 0.])),
    'TranslateY': (lambda level: level * TRANSLATE_CONST, lambda x, arg: _affine(x, translate=[0., -arg])),
    'Posterize': (lambda level: int(level * 4), lambda x, arg: F.posterize(x, arg)),
    'HorizontalFlip': (lambda level: 0., lambda x, arg: F.hflip(x)),
}


@TRANSFORMS.register_module()
class TemporalConsistentRandAugment(BaseTransform):
    """RandAugment for clips as ALPRO's pretraining does it: ``num_ops`` random operations, the same on all frames.

    ALPRO (``src/datasets/randaugment.py``) augments each WebVid clip with ``TemporalConsistentRandomAugment(N=2,
    M=5, augs=VIDEO_OPS)``: ``num_ops`` distinct operations drawn from ``ops``, each applied to every frame with the
    same argument; and each CC3M image with ``RandomAugment(2, 7, augs=IMAGE_OPS)``, whose operations are drawn with
    replacement and each applied with probability 0.5. Both are this transform:
    ``TemporalConsistentRandAugment(num_ops=2, magnitude=5)`` and ``TemporalConsistentRandAugment(num_ops=2,
    magnitude=7, ops=IMAGE_OPS, apply_prob=0.5, replace=True)``. Neither mmaction2 nor torchvision has it:
    torchvision's ``RandAugment`` (``TorchVisionWrapper(op='RandAugment')`` in mmaction2) applies one draw to a whole
    clip too, but with its own operations, random directions and a translation relative to the frame size.

    The official arguments of magnitude ``M`` (level ``M / 10``), applied here with torchvision's functional ops on
    ``(T, C, H, W)`` frames (the official code uses OpenCV on each frame):

    - ``Contrast``, ``Brightness``, ``Sharpness``, ``Color``: factor ``1.8 * M / 10 + 0.1`` (1.0, i.e. **no change, at
      M = 5**: three of the ten video operations do nothing in the official recipe; 1.36 at M = 7). Contrast blends
      with the frame's grey mean (the official mean weights the channels in BGR order on RGB frames; here the
      luminance weights in RGB order).
    - ``ShearX`` / ``ShearY``: shear factor ``0.3 * M / 10`` about the top-left corner, always in the same direction
      (the official random sign is commented out): rows lower in the frame move right (ShearX), columns further right
      move down (ShearY).
    - ``TranslateX`` / ``TranslateY``: ``10 * M / 10`` pixels to the left / up, whatever the frame size.
    - ``Rotate``: ``30 * M / 10`` degrees counter-clockwise about the centre.
    - ``Solarize``: threshold ``int(256 * M / 10)``; ``Posterize``: ``int(4 * M / 10)`` bits; ``Equalize``,
      ``Identity``, ``HorizontalFlip``: no argument.
    - Geometric operations interpolate bilinearly and fill with grey ``(128, 128, 128)``.

    Randomness: NumPy's global generator, as the official code (seeded by mmengine's worker seeding):
    ``np.random.choice(ops, num_ops, replace=replace)``, then ``num_ops`` uniform draws, operation ``i`` being applied
    when its draw is below ``apply_prob``.

    **Required keys:** ``imgs`` (``HxWx3`` ``uint8`` RGB frames: a list, or an array ``(T, H, W, 3)``).

    **Modified keys:** ``imgs`` (a list of ``uint8`` frames).

    Args:
        num_ops (int): Operations drawn per clip. Defaults to 2.
        magnitude (float): Strength, 0 to 10. Defaults to 5.
        ops (Sequence[str]): The operations to draw from (names of :data:`OPS`). Defaults to :data:`VIDEO_OPS`.
        apply_prob (float): Probability that a drawn operation is applied. Defaults to 1 (the video recipe).
        replace (bool): Draw the operations with replacement (the image recipe). Defaults to False.
    """

    def __init__(self,
                 num_ops: int = 2,
                 magnitude: float = 5,
                 ops: Sequence[str] = VIDEO_OPS,
                 apply_prob: float = 1.,
                 replace: bool = False) -> None:
        ops = tuple(ops)
        unknown = [op for op in ops if op not in OPS]
        if not ops or unknown:
            raise ValueError(f'ops must be a non-empty list of {sorted(OPS)}, got {list(ops)!r}')
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f'num_ops must be an integer >= 0, got {num_ops!r}')
        if not replace and num_ops > len(ops):
            raise ValueError(f'cannot draw {num_ops} distinct operations from {len(ops)}: use replace=True or fewer')
        if not 0 <= magnitude <= MAX_LEVEL:
            raise ValueError(f'magnitude must be in [0, {MAX_LEVEL:g}], got {magnitude!r}')
        if not 0 <= apply_prob <= 1:
            raise ValueError(f'apply_prob must be in [0, 1], got {apply_prob!r}')
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.ops = ops
        self.apply_prob = float(apply_prob)
        self.replace = bool(replace)

    def draw(self) -> List[str]:
        """The operations to apply to one clip (drawn from NumPy's global generator).

        Returns:
            list[str]: Operation names, in the order they apply.
        """
        names = np.random.choice(self.ops, self.num_ops, replace=self.replace)
        applied = np.random.random(size=self.num_ops) < self.apply_prob
        return [str(name) for name, apply in zip(names, applied) if apply]

    def apply(self, frames: torch.Tensor, names: Sequence[str]) -> torch.Tensor:
        """Apply the operations ``names`` at this magnitude to every frame.

        Args:
            frames (torch.Tensor): ``(T, C, H, W)`` ``uint8`` frames.
            names (Sequence[str]): Operation names.

        Returns:
            torch.Tensor: The augmented frames, same shape and dtype.
        """
        level = self.magnitude / MAX_LEVEL
        for name in names:
            to_arg, op = OPS[name]
            frames = op(frames, to_arg(level))
        return frames

    def transform(self, results: Dict) -> Dict:
        """Augment ``results['imgs']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with the augmented frames.
        """
        imgs = np.stack(list(results['imgs'])) if isinstance(results['imgs'], (list, tuple)) else results['imgs']
        if imgs.dtype != np.uint8 or imgs.ndim != 4 or imgs.shape[-1] != 3:
            raise ValueError(f'TemporalConsistentRandAugment takes HxWx3 uint8 frames (before FormatShape and '
                             f'normalisation), got {imgs.dtype} frames of shape {imgs.shape[1:]}')
        names = self.draw()
        if names:
            frames = self.apply(torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2), names)
            imgs = frames.permute(0, 2, 3, 1).contiguous().numpy()
        results['imgs'] = list(imgs)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, ops={self.ops}, '
                f'apply_prob={self.apply_prob}, replace={self.replace})')
