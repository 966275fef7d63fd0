"""TSN segment sampling with several deterministic views per video (X-CLIP's multi-view test)."""
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiViewSegmentSample(BaseTransform):
    """Split the video into ``num_segments`` equal segments and take one frame per segment, ``num_views`` times.

    View ``v`` takes, in every segment, the frame at fraction ``(v + 0.5) / num_views`` of the segment, so the views
    spread evenly and testing is deterministic. (X-CLIP's official test draws its 4 views at random, so its results
    vary from run to run; a single view, ``num_views=1``, takes the segment centres as mmaction2's
    ``SampleFrames(clip_len=1, num_clips=T, test_mode=True)`` does.) The output is laid out for
    ``FormatShape('NCTHW')``: ``num_clips = num_views`` clips of ``clip_len = num_segments`` frames each.

    Required keys: ``total_frames``, ``start_index``. Added keys: ``frame_inds``, ``clip_len``, ``frame_interval``,
    ``num_clips``.

    Args:
        num_segments (int): Frames per view (the model's T).
        num_views (int): Temporal views. Defaults to 1.
    """

    def __init__(self, num_segments: int, num_views: int = 1) -> None:
        if num_segments < 1 or num_views < 1:
            raise ValueError(f'num_segments and num_views must be >= 1, got {num_segments} and {num_views}')
        self.num_segments = num_segments
        self.num_views = num_views

    def transform(self, results: dict) -> dict:
        """Add the frame indices of all views to ``results``."""
        total = results['total_frames']
        if total < 1:
            raise ValueError(f'{results.get("filename", "video")} has no frames')
        seg_len = total / self.num_segments
        starts = np.arange(self.num_segments) * seg_len
        fractions = (np.arange(self.num_views) + 0.5) / self.num_views
        inds = np.floor(starts[None, :] + fractions[:, None] * seg_len).astype(np.int64)
        results['frame_inds'] = np.clip(inds, 0, total - 1).reshape(-1) + results.get('start_index', 0)
        results['clip_len'] = self.num_segments
        results['frame_interval'] = None
        results['num_clips'] = self.num_views
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_segments={self.num_segments}, num_views={self.num_views})'
