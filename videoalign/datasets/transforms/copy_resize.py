"""A resized copy of the augmented frames, for a tokenizer that sees the same crop at a lower resolution (BEVT)."""
from typing import Dict, Sequence, Union

import mmcv
import numpy as np
from mmaction.datasets.transforms import FormatShape
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS

INPUT_FORMATS = ('NCTHW', 'NCHW')


@TRANSFORMS.register_module()
class CopyResize(BaseTransform):
    """Resize a copy of the frames and store it, already in the model's layout, under another key.

    BEVT's tokenizer (the DALL-E encoder) predicts the targets from a 112x112 copy of the same augmented crop the
    encoder sees at 224x224. Place this transform after the crop and flip transforms, before ``FormatShape`` and
    before any normalisation: it reads the list of ``uint8`` ``HxWx3`` RGB frames in ``results['imgs']`` (which it
    leaves unchanged), resizes each with ``mmcv.imresize`` (OpenCV backend) and stores one ``uint8`` array under
    ``out_key`` in the layout of ``input_format``, as mmaction2's ``FormatShape`` arranges ``imgs``:

    - ``'NCTHW'`` (videos): ``(num_crops * num_clips, C, clip_len, h, w)``, the frames read in the order
      ``crop, clip, time`` (``num_crops`` is 1 after a single crop);
    - ``'NCHW'`` (images, or frames as separate images): ``(M, C, h, w)`` for ``M`` frames.

    The mapping of the pixels to the tokenizer's range (DALL-E: ``(x / 255) * 0.8 + 0.1``) is not done here; it is
    the data preprocessor's job (:class:`~videoalign.models.data_preprocessors.BEVTDataPreprocessor`), on the
    device.

    **Required keys:** ``imgs``; ``clip_len`` and ``num_clips`` for ``'NCTHW'``; ``modality`` (optional, must be
    ``'RGB'``).

    **Added keys:** ``out_key``.

    Args:
        scale (int | Sequence[int]): The size of the copy, ``(w, h)`` as ``mmcv.imresize`` takes it, or one int
            for a square. Defaults to (112, 112).
        interpolation (str): The interpolation of ``mmcv.imresize``: ``'nearest'``, ``'bilinear'``,
            ``'bicubic'``, ``'area'`` or ``'lanczos'``. Defaults to ``'lanczos'`` (as BEVT).
        input_format (str): ``'NCTHW'`` or ``'NCHW'``, the layout of the copy; use the one of the pipeline's
            ``FormatShape``. Defaults to ``'NCTHW'``.
        out_key (str): The key of the copy. Defaults to ``'imgs_second'``.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]] = (112, 112),
                 interpolation: str = 'lanczos',
                 input_format: str = 'NCTHW',
                 out_key: str = 'imgs_second') -> None:
        size = (scale, scale) if isinstance(scale, (int, np.integer)) else tuple(scale)
        if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
            raise ValueError(f'scale must be a positive integer or a (w, h) pair of positive integers, got {scale!r}')
        if interpolation not in cv2_interp_codes:
            raise ValueError(f'interpolation must be one of {tuple(cv2_interp_codes)}, got {interpolation!r}')
        if input_format not in INPUT_FORMATS:
            raise ValueError(f'input_format must be one of {INPUT_FORMATS}, got {input_format!r}')
        if not isinstance(out_key, str) or not out_key or out_key == 'imgs':
            raise ValueError(f'out_key must be a non-empty key other than "imgs", got {out_key!r}')
        self.scale = (int(size[0]), int(size[1]))
        self.interpolation = interpolation
        self.input_format = input_format
        self.out_key = out_key
        self._format_shape = FormatShape(input_format)

    @staticmethod
    def _check_frame(index: int, frame) -> None:
        """Raise unless ``frame`` is an ``HxWx3`` ``uint8`` array."""
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[-1] != 3:
            shape = getattr(frame, 'shape', type(frame).__name__)
            raise ValueError(f'CopyResize expects results["imgs"] to be HxWx3 RGB frames, but frame {index} is '
                             f'{shape}; place it before FormatShape')
        if frame.dtype != np.uint8:
            raise TypeError(f'CopyResize expects uint8 frames (0-255), but frame {index} is {frame.dtype}; place it '
                            f'before Normalize and any transform that makes the frames float')

    def _clip_shape(self, results: Dict, num_frames: int) -> tuple:
        """``(num_clips, clip_len)`` of ``results`` for ``'NCTHW'``, checked against ``num_frames``."""
        missing = [key for key in ('clip_len', 'num_clips') if key not in results]
        if missing:
            raise KeyError(f'CopyResize(input_format="NCTHW") needs results {missing} (set by SampleFrames); got '
                           f'keys {sorted(results)}')
        clip_len, num_clips = results['clip_len'], results['num_clips']
        if isinstance(clip_len, dict):
            clip_len = clip_len.get('RGB')
        if not isinstance(clip_len, (int, np.integer)) or not isinstance(num_clips, (int, np.integer)) or \
                clip_len < 1 or num_clips < 1 or num_frames % (clip_len * num_clips):
            raise ValueError(f'CopyResize(input_format="NCTHW"): {num_frames} frames do not split into clips of '
                             f'num_clips={num_clips!r} x clip_len={clip_len!r} frames')
        return int(num_clips), int(clip_len)

    def transform(self, results: Dict) -> Dict:
        """Store the resized copy of ``results['imgs']`` under ``out_key``.

        Args:
            results (dict): The sample, with ``imgs`` a list (or ``(M, H, W, 3)`` array) of ``uint8`` frames.

        Returns:
            dict: ``results`` with ``out_key`` added.
        """
        modality = results.get('modality', 'RGB')
        if modality != 'RGB':
            raise ValueError(f'CopyResize works on RGB frames, got modality {modality!r}')
        frames = results['imgs']
        if isinstance(frames, np.ndarray) and frames.ndim != 4:
            raise ValueError(f'CopyResize expects results["imgs"] to be HxWx3 RGB frames, got an array of shape '
                             f'{frames.shape}; place it before FormatShape')
        if len(frames) == 0:
            raise ValueError('CopyResize got no frames in results["imgs"]')
        for index, frame in enumerate(frames):
            self._check_frame(index, frame)
        copy = np.stack([
            mmcv.imresize(frame, self.scale, interpolation=self.interpolation, backend='cv2') for frame in frames
        ])  # M x h x w x C
        sample = dict(imgs=copy, modality='RGB')
        if self.input_format == 'NCTHW':
            sample['num_clips'], sample['clip_len'] = self._clip_shape(results, len(copy))
        copy = self._format_shape.transform(sample)['imgs']  # the layout mmaction2's FormatShape gives `imgs`
        results[self.out_key] = np.ascontiguousarray(copy)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, interpolation={self.interpolation!r}, '
                f'input_format={self.input_format!r}, out_key={self.out_key!r})')
