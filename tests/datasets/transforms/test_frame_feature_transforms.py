"""Efficient-Prompt's sampling (RandomStrideSample) and the cached frame-feature transforms."""
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from videoalign.datasets.transforms import FrameFeatureDecode, LoadFrameFeatures, RandomStrideSample

RATIOS = [1, 1 / 2, 1 / 3, 1 / 3, 1 / 3, 1 / 4]


def official_select_indices(num_frames: int, frames: int = 16, ratios=RATIOS) -> np.ndarray:
    """``readFeatureHMDB51._select_indices`` and its padding (efficient_prompt.md §4), with the rate drawn by numpy's
    generator instead of Python's ``random.choice`` so that both draw from the same stream."""
    if num_frames <= frames:
        return np.array(list(range(num_frames)) + [num_frames - 1] * (frames - num_frames))
    rate = ratios[np.random.randint(len(ratios))]
    all_ind = np.linspace(
        np.random.randint(1 / rate), num_frames - 1, num=round(rate * num_frames), endpoint=True, dtype=int)
    if len(all_ind) <= frames:
        all_ind = np.linspace(0, num_frames - 1, num=int(num_frames), endpoint=True, dtype=int)
    start = np.random.randint(len(all_ind) - frames)
    return all_ind[start:start + frames]


@pytest.mark.parametrize('num_frames', [16, 17, 30, 47, 64, 65, 200, 1001])
def test_random_stride_sample_is_the_official_draw(num_frames):
    sampler = RandomStrideSample(clip_len=16)
    for seed in range(40):
        np.random.seed(seed)
        expected = official_select_indices(num_frames)
        np.random.seed(seed)
        out = sampler.transform(dict(total_frames=num_frames, start_index=0))
        assert out['frame_inds'].tolist() == expected.tolist(), (num_frames, seed)
    assert (out['clip_len'], out['num_clips'], out['frame_interval']) == (16, 1, None)


def test_random_stride_sample_strides_padding_and_views():
    np.random.seed(0)
    strides = set()
    for _ in range(200):
        inds = RandomStrideSample().transform(dict(total_frames=300, start_index=0))['frame_inds']
        assert len(inds) == 16 and inds.min() >= 0 and inds.max() < 300
        strides |= set(np.diff(inds).tolist())
    assert strides <= {1, 2, 3, 4, 5} and {1, 2, 3, 4} <= strides  # linspace truncation makes strides 1/r +- 1
    # stride 1 only: 16 consecutive frames, never the last window (the official randint excludes it)
    starts = {RandomStrideSample(ratios=[1]).transform(dict(total_frames=20))['frame_inds'][0] for _ in range(200)}
    assert starts == {0, 1, 2, 3}
    short = RandomStrideSample().transform(dict(total_frames=5, start_index=1))['frame_inds']
    assert short.tolist() == [1, 2, 3, 4, 5] + [5] * 11  # padded with the last frame, shifted by start_index
    views = RandomStrideSample(clip_len=4, num_clips=5).transform(dict(total_frames=100))
    assert views['frame_inds'].shape == (20, ) and views['num_clips'] == 5
    assert len({tuple(v) for v in views['frame_inds'].reshape(5, 4).tolist()}) > 1  # independent draws
    with pytest.raises(ValueError, match='ratios'):
        RandomStrideSample(ratios=[2])
    with pytest.raises(ValueError, match='no frames'):
        RandomStrideSample().transform(dict(total_frames=0, filename='empty.avi'))


def test_load_and_decode_frame_features(tmp_path):
    (tmp_path / 'walk').mkdir()
    features = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float16)
    np.save(tmp_path / 'walk' / 'clip_1.npy', features)
    init_default_scope('videoalign')
    pipeline = Compose([
        dict(type='LoadFrameFeatures'),
        dict(type='RandomStrideSample', clip_len=16, num_clips=3),
        dict(type='FrameFeatureDecode'),
        dict(type='PackActionInputs')
    ])
    np.random.seed(0)
    packed = pipeline(dict(filename=str(tmp_path / 'walk' / 'clip_1.avi'), label=2, start_index=0))
    assert tuple(packed['inputs'].shape) == (3, 16, 8) and str(packed['inputs'].dtype) == 'torch.float32'
    np.random.seed(0)
    inds = RandomStrideSample(clip_len=16, num_clips=3).transform(dict(total_frames=40))['frame_inds']
    assert np.array_equal(packed['inputs'].numpy(), features[inds].astype(np.float32).reshape(3, 16, 8))

    loaded = LoadFrameFeatures().transform(dict(filename=str(tmp_path / 'walk' / 'clip_1.mp4')))
    assert loaded['total_frames'] == 40 and loaded['features'].dtype == np.float32
    with pytest.raises(FileNotFoundError, match='clip_2.npy.*extract_clip_features'):
        LoadFrameFeatures().transform(dict(filename=str(tmp_path / 'walk' / 'clip_2.avi')))
    np.save(tmp_path / 'walk' / 'flat.npy', np.zeros(5))
    with pytest.raises(ValueError, match=r'\(T, D\)'):
        LoadFrameFeatures().transform(dict(filename=str(tmp_path / 'walk' / 'flat.avi')))
    with pytest.raises(IndexError, match='out of range'):
        FrameFeatureDecode().transform(dict(features=features, frame_inds=np.array([0, 40]), clip_len=2, num_clips=1))
