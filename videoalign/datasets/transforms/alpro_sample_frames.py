"""ALPRO's frame sampling (``AlproBaseDataset._load_video_from_path_decord``): random, uniform or head-and-tail."""
import random
from typing import List

import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS

MODES = ('rand', 'uniform', 'headtail')


def _sorted_sample(start: int, stop: int, k: int) -> List[int]:
    """``k`` sorted random frames of ``range(start, stop)``: the official ``sorted(random.sample(...))``.

    A range of fewer than ``k`` frames (where ``random.sample`` raises) gives each of its frames once plus
    ``k - (stop - start)`` frames drawn with repetition (``random.choices``), all sorted; an empty range gives
    ``start`` ``k`` times.
    """
    count = stop - start
    if count >= k:
        return sorted(random.sample(range(start, stop), k))
    if count <= 0:
        return [start] * k
    return sorted(list(range(start, stop)) + random.choices(range(start, stop), k=k - count))


@TRANSFORMS.register_module()
class ALPROSampleFrames(BaseTransform):
    """Pick ``num_frames`` frame indices of a video as ALPRO does, for mmaction2's ``DecordDecode``.

    Official indices for a video of ``n`` frames (``frm_sampling_strategy`` of ALPRO's configs):

    - ``'rand'`` (retrieval and QA training): ``sorted(random.sample(range(n), num_frames))``, i.e. distinct random
      frames in time order;
    - ``'uniform'`` (evaluation): ``np.arange(0, n, n / num_frames, dtype=int)``. NumPy computes an integer
      ``arange`` with the step ``int(start + step) - int(start)``, so these are ``i * (n // num_frames)``,
      ``i = 0 .. num_frames - 1``: evenly spaced from frame 0 with the step rounded down, which covers only the
      start of the video when ``n / num_frames`` is not an integer (e.g. frames 0..7 of a 15-frame video for 8
      frames). This is reproduced as is. (For a ``num_frames`` that is not a power of two, NumPy's float rounding
      can make the official expression return ``num_frames + 1`` indices; the extra last one is not taken.)
    - ``'headtail'`` (pretraining): ``num_frames // 2`` sorted random frames of the first half
      ``range(n // 2)`` followed by as many of the second half ``range(n // 2, n)``. ``num_frames`` must be even.

    The random modes draw from Python's ``random`` module, as the official code, so they are seeded by
    mmengine's ``randomness`` setting and its dataloader worker seeding (which seed ``random``, NumPy and torch);
    with the same ``random`` state they give the official indices.

    Videos shorter than ``num_frames`` (where ``random.sample`` raises and the official loader drops the sample,
    and where the official ``'uniform'`` step is 0, i.e. frame 0 repeated): ``'rand'`` takes every frame once plus
    ``num_frames - n`` frames drawn with repetition, sorted; ``'headtail'`` does the same within a half that is
    shorter than ``num_frames // 2`` (a 1-frame video gives frame 0 throughout); ``'uniform'`` takes
    ``(i * n) // num_frames``, each frame repeated evenly. The result always has ``num_frames`` non-decreasing
    indices in ``[0, n)``.

    Required keys: ``total_frames``, ``start_index`` (optional, added to the indices as in mmaction2's
    ``SampleFrames``). Added keys: ``frame_inds``, ``clip_len`` (``num_frames``), ``frame_interval`` (None),
    ``num_clips`` (1).

    Args:
        num_frames (int): Frames per clip: ALPRO uses 4 for pretraining, 8 for retrieval, 16 for QA.
        mode (str): ``'rand'``, ``'uniform'`` or ``'headtail'``. Defaults to ``'rand'``.
    """

    def __init__(self, num_frames: int, mode: str = 'rand') -> None:
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be an integer >= 1, got {num_frames!r}')
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if mode == 'headtail' and num_frames % 2:
            raise ValueError(f"mode='headtail' takes num_frames // 2 frames from each half: num_frames must be even, "
                             f'got {num_frames}')
        self.num_frames = num_frames
        self.mode = mode

    def sample(self, total_frames: int) -> np.ndarray:
        """The frame indices (from 0) of a video of ``total_frames`` frames.

        Args:
            total_frames (int): Number of frames of the video, at least 1.

        Returns:
            np.ndarray: ``num_frames`` int64 indices.
        """
        n, k = int(total_frames), self.num_frames
        if n < 1:
            raise ValueError(f'the video has no frames (total_frames={total_frames})')
        if self.mode == 'uniform':
            if n < k:
                return np.arange(k, dtype=np.int64) * n // k
            return np.arange(0, n, n / k, dtype=int)[:k].astype(np.int64)
        if self.mode == 'rand':
            return np.array(_sorted_sample(0, n, k), dtype=np.int64)
        half = n // 2
        if half == 0:  # a 1-frame video
            return np.zeros(k, dtype=np.int64)
        return np.array(_sorted_sample(0, half, k // 2) + _sorted_sample(half, n, k // 2), dtype=np.int64)

    def transform(self, results: dict) -> dict:
        """Add ``frame_inds`` and the clip keys to ``results``."""
        total = results['total_frames']
        if total < 1:
            raise ValueError(f'{results.get("filename", "video")} has no frames')
        results['frame_inds'] = self.sample(total) + results.get('start_index', 0)
        results['clip_len'] = self.num_frames
        results['frame_interval'] = None
        results['num_clips'] = 1
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames}, mode={self.mode!r})'
