"""Efficient-Prompt's frame sampling: a dense window at a random frame rate (``readFeatureHMDB51._select_indices``)."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomStrideSample(BaseTransform):
    """Take ``clip_len`` consecutive frames of the video subsampled at a random rate, ``num_clips`` times.

    As the official ``readFeatureHMDB51._select_indices`` (``ju-chen/Efficient-Prompt`` ``src/data.py``), for a video
    of ``n > clip_len`` frames one draw is:

    1. a rate ``r`` chosen uniformly from ``ratios`` (``[1, 1/2, 1/3, 1/3, 1/3, 1/4]``: stride 3 is drawn half the
       time);
    2. ``round(r * n)`` indices spread evenly (``linspace``, truncated to integers) from a random offset in
       ``[0, 1/r)`` to ``n - 1``, i.e. a stride of about ``1/r``; if that gives ``clip_len`` indices or fewer,
       every frame ``0 .. n - 1`` instead;
    3. a window of ``clip_len`` consecutive indices starting at a random position in ``[0, m - clip_len)`` of those
       ``m`` indices (the official ``randint`` never picks the last possible window).

    A video of ``n <= clip_len`` frames gives all its frames followed by its last frame repeated up to ``clip_len``.
    Every draw is random, also in test mode: the official test averages 5 such draws (``valEnsemble=5``); set
    ``num_clips=5`` with ``average_clips='prob'`` in the head. The result suits ``DecordDecode`` (raw videos) and
    :class:`FrameFeatureDecode` (cached frame features) alike.

    Required keys: ``total_frames``, ``start_index`` (optional). Added keys: ``frame_inds``, ``clip_len``,
    ``frame_interval`` (None), ``num_clips``.

    Args:
        clip_len (int): Frames per clip. Defaults to 16 (``--numFrames 16``).
        ratios (Sequence[float]): Frame-rate ratios drawn from, each in ``(0, 1]``. Defaults to
            ``(1, 1/2, 1/3, 1/3, 1/3, 1/4)``.
        num_clips (int): Independent draws (views) per video. Defaults to 1.
    """

    def __init__(self,
                 clip_len: int = 16,
                 ratios: Sequence[float] = (1, 1 / 2, 1 / 3, 1 / 3, 1 / 3, 1 / 4),
                 num_clips: int = 1) -> None:
        if clip_len < 1 or num_clips < 1:
            raise ValueError(f'clip_len and num_clips must be >= 1, got {clip_len} and {num_clips}')
        if not ratios or not all(0 < r <= 1 for r in ratios):
            raise ValueError(f'ratios must be a non-empty list of rates in (0, 1], got {ratios!r}')
        self.clip_len = clip_len
        self.ratios = tuple(float(r) for r in ratios)
        self.num_clips = num_clips

    def _draw(self, num_frames: int) -> np.ndarray:
        """One clip of ``clip_len`` frame indices of a video of ``num_frames`` frames."""
        if num_frames <= self.clip_len:
            return np.minimum(np.arange(self.clip_len), num_frames - 1)
        rate = self.ratios[np.random.randint(len(self.ratios))]
        offset = np.random.randint(int(round(1 / rate)))
        inds = np.linspace(offset, num_frames - 1, num=round(rate * num_frames), endpoint=True, dtype=int)
        if len(inds) <= self.clip_len:
            inds = np.arange(num_frames)
        start = np.random.randint(len(inds) - self.clip_len)
        return inds[start:start + self.clip_len]

    def transform(self, results: dict) -> dict:
        """Add the frame indices of ``num_clips`` draws to ``results``."""
        total = results['total_frames']
        if total < 1:
            raise ValueError(f'{results.get("filename", "video")} has no frames')
        inds = np.concatenate([self._draw(total) for _ in range(self.num_clips)])
        results['frame_inds'] = inds.astype(np.int64) + results.get('start_index', 0)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, ratios={self.ratios}, '
                f'num_clips={self.num_clips})')
