"""BEVT's tube masking of video clips: one 2D block-wise mask repeated over a random, cyclic span of time."""
from numbers import Real
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


def _grid_size(input_size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``input_size`` as ``(h, w)``, checked: each side an integer >= 2."""
    size = (input_size, input_size) if isinstance(input_size, (int, np.integer)) else tuple(input_size)
    if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 2 for s in size):
        raise ValueError(f'input_size must be an integer or an (h, w) pair of integers, each >= 2 (the block '
                         f'generator draws blocks narrower than the grid), got {input_size!r}')
    return int(size[0]), int(size[1])


def _check_positive_int(name: str, value, allow_none: bool = False) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``value`` is an integer >= 1 (or None when allowed)."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        expected = 'None or an integer >= 1' if allow_none else 'an integer >= 1'
        raise ValueError(f'{name} must be {expected}, got {value!r}')


@TRANSFORMS.register_module()
class TubeMaskGenerator(BaseTransform):
    """BEVT's video tube mask (the official ``MaskedPositionGenerate``), with the pretraining config's values as
    defaults.

    For each of the ``num_clips`` clips of a sample, one 2D block-wise mask of ``num_masking_patches`` patches is
    drawn on the ``input_size`` grid with mmpretrain's ``BEiTMaskGenerator`` (BEiT's algorithm, which always masks
    exactly ``num_masking_patches`` patches). The clip's ``clip_len`` frames form ``T' = clip_len // temporal_scale``
    temporal positions (one per temporal patch). A tube start ``randint(0, T' - 1)`` and a tube length
    ``randint(max(int(lo * T'), 1), min(int(hi * T'), T'))`` are drawn (both bounds inclusive, as the official
    code's ``random.randint``; ``(lo, hi) = masked_tube_range``), and the 2D mask is copied onto the temporal
    positions ``start, start + 1, ..., start + length - 1``, wrapping around to position 0 when they pass ``T'``.

    All draws come from NumPy's global generator, in the official order (2D mask, start, length, clip by clip), so
    ``np.random.seed`` makes the masks reproducible.

    **Required keys:** ``clip_len`` (an int, or a dict with an ``'RGB'`` entry as mmaction2's ``FormatShape``
    accepts), ``num_clips``.

    **Added keys:**

    - ``mask``: bool ``(num_clips, T', h, w)``, the masked input positions (the official ``input_position_masks``).
    - ``target_mask``: bool ``(num_clips, T' * temporal_scale, h, w)``, the same tube nearest-upsampled in time
      (each temporal position repeated ``temporal_scale`` times), i.e. the masked positions of the ``clip_len``
      predicted frames (the official ``output_position_masks``).

    Collect both with ``PackActionInputs(collect_keys=('imgs', 'imgs_second', 'mask', 'target_mask'))``.

    Args:
        input_size (int | Sequence[int]): The mask grid, ``h = w`` or ``(h, w)``: the input size divided by the
            spatial patch size of the mask (16 px in BEVT: 224 px -> 14). Defaults to 14.
        num_masking_patches (int): Patches masked in each 2D mask, at most ``h * w``. Defaults to 98 (half of 14x14).
        min_num_patches (int): The least area of one block of the 2D mask. Defaults to 16.
        max_num_patches (int, optional): The largest area of one block; None means ``num_masking_patches``.
            Defaults to None.
        masked_tube_range (Sequence[float]): ``(lo, hi)``, the range of the tube length as fractions of ``T'``,
            ``0 < lo <= hi <= 1``. Defaults to (0.5, 1.0).
        temporal_scale (int): Frames per temporal position (BEVT's temporal patch size); ``clip_len`` must be a
            multiple of it. Defaults to 2.
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 14,
                 num_masking_patches: int = 98,
                 min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None,
                 masked_tube_range: Sequence[float] = (0.5, 1.0),
                 temporal_scale: int = 2) -> None:
        self.height, self.width = _grid_size(input_size)
        _check_positive_int('num_masking_patches', num_masking_patches)
        if num_masking_patches > self.height * self.width:
            raise ValueError(f'num_masking_patches must be at most the {self.height}x{self.width} = '
                             f'{self.height * self.width} patches of input_size, got {num_masking_patches!r}')
        _check_positive_int('min_num_patches', min_num_patches)
        _check_positive_int('max_num_patches', max_num_patches, allow_none=True)
        range_ok = (
            isinstance(masked_tube_range, Sequence) and len(masked_tube_range) == 2
            and all(isinstance(v, Real) and not isinstance(v, bool) for v in masked_tube_range))
        if not range_ok or not 0 < masked_tube_range[0] <= masked_tube_range[1] <= 1:
            raise ValueError(f'masked_tube_range must be a (lo, hi) pair of fractions with 0 < lo <= hi <= 1, got '
                             f'{masked_tube_range!r}')
        _check_positive_int('temporal_scale', temporal_scale)
        self.num_masking_patches = int(num_masking_patches)
        self.min_num_patches = int(min_num_patches)
        self.max_num_patches = None if max_num_patches is None else int(max_num_patches)
        self.masked_tube_range = (float(masked_tube_range[0]), float(masked_tube_range[1]))
        self.temporal_scale = int(temporal_scale)
        # mmpretrain is imported here, when the first generator is built, not when videoalign is imported
        self.block_mask_generator = TRANSFORMS.build(
            dict(
                type='mmpretrain.BEiTMaskGenerator',
                input_size=(self.height, self.width),
                num_masking_patches=self.num_masking_patches,
                min_num_patches=self.min_num_patches,
                max_num_patches=self.max_num_patches))

    def tube_length_range(self, num_positions: int) -> Tuple[int, int]:
        """The least and the largest tube length (both inclusive) for ``num_positions`` temporal positions.

        Args:
            num_positions (int): ``T'``, the temporal positions of a clip.

        Returns:
            tuple[int, int]: ``(max(int(lo * T'), 1), min(int(hi * T'), T'))`` as the official code computes them;
            the largest is raised to the least where ``int(hi * T')`` is 0, so that a tube is never empty.
        """
        lo, hi = self.masked_tube_range
        least = max(int(lo * num_positions), 1)
        largest = max(min(int(hi * num_positions), num_positions), least)
        return least, largest

    def _num_positions(self, results: Dict) -> Tuple[int, int]:
        """``(num_clips, T')`` of ``results``, checked."""
        missing = [key for key in ('clip_len', 'num_clips') if key not in results]
        if missing:
            raise KeyError(f'TubeMaskGenerator needs results {missing} (set by SampleFrames); got keys '
                           f'{sorted(results)}')
        clip_len, num_clips = results['clip_len'], results['num_clips']
        if isinstance(clip_len, dict):
            clip_len = clip_len.get('RGB')
        for name, value in (('clip_len', clip_len), ('num_clips', num_clips)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f'TubeMaskGenerator needs results[{name!r}] to be an integer >= 1, got {value!r}')
        if clip_len % self.temporal_scale:
            raise ValueError(f'clip_len={clip_len} is not a multiple of temporal_scale={self.temporal_scale}: '
                             f'the frames must split evenly into temporal positions')
        return int(num_clips), int(clip_len) // self.temporal_scale

    def transform(self, results: Dict) -> Dict:
        """Draw the tube masks of the sample's clips.

        Args:
            results (dict): The sample, with ``clip_len`` and ``num_clips``.

        Returns:
            dict: ``results`` with ``mask`` and ``target_mask`` added.
        """
        num_clips, num_positions = self._num_positions(results)
        least, largest = self.tube_length_range(num_positions)
        tube = np.zeros((num_clips, num_positions, self.height, self.width), dtype=bool)
        for i in range(num_clips):
            block_mask = self.block_mask_generator.transform({})['mask'].astype(bool)
            start = np.random.randint(0, num_positions)  # randint(0, T' - 1), inclusive
            length = np.random.randint(least, largest + 1)  # randint(least, largest), inclusive
            tube[i, (start + np.arange(length)) % num_positions] = block_mask
        results['mask'] = tube
        results['target_mask'] = np.repeat(tube, self.temporal_scale, axis=1)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={(self.height, self.width)}, '
                f'num_masking_patches={self.num_masking_patches}, min_num_patches={self.min_num_patches}, '
                f'max_num_patches={self.max_num_patches}, masked_tube_range={self.masked_tube_range}, '
                f'temporal_scale={self.temporal_scale})')
