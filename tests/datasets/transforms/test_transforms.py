"""videoalign's transforms."""
import numpy as np
import pytest

from videoalign.datasets.transforms import ClipGrayscale, MultiViewSegmentSample


def test_multi_view_segment_sample():
    out = MultiViewSegmentSample(num_segments=4, num_views=2).transform(dict(total_frames=16, start_index=0))
    # segments of 4 frames; view 0 at a quarter of each segment, view 1 at three quarters
    assert out['frame_inds'].tolist() == [1, 5, 9, 13, 3, 7, 11, 15]
    assert (out['num_clips'], out['clip_len']) == (2, 4)
    single = MultiViewSegmentSample(num_segments=4).transform(dict(total_frames=16, start_index=1))
    assert single['frame_inds'].tolist() == [3, 7, 11, 15]  # segment centres, shifted by start_index
    short = MultiViewSegmentSample(num_segments=8, num_views=3).transform(dict(total_frames=3, start_index=0))
    assert short['frame_inds'].min() >= 0 and short['frame_inds'].max() <= 2
    with pytest.raises(ValueError, match='num_views'):
        MultiViewSegmentSample(8, num_views=0)


def test_random_grayscale():
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (4, 5, 3), dtype=np.uint8) for _ in range(3)]
    out = ClipGrayscale(prob=1.0).transform(dict(imgs=list(imgs)))['imgs']
    assert all(np.array_equal(o[..., 0], o[..., 2]) for o in out)
    expected = np.clip(imgs[0].astype(np.float32) @ np.array([0.299, 0.587, 0.114]) + 0.5, 0, 255).astype(np.uint8)
    assert np.array_equal(out[0][..., 1], expected)
    same = ClipGrayscale(prob=0.0).transform(dict(imgs=list(imgs)))['imgs']
    assert all(np.array_equal(a, b) for a, b in zip(same, imgs))
