"""Tests of ALPROSampleFrames against ALPRO's frame indices (``_load_video_from_path_decord``)."""
import random

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope

from videoalign.datasets.synthetic import write_video
from videoalign.datasets.transforms import ALPROSampleFrames
from videoalign.registry import TRANSFORMS


def official(mode: str, vlen: int, num_frm: int) -> list:
    """ALPRO's indices, transcribed from ``src/datasets/dataset_base.py`` (start 0, end ``vlen``)."""
    if mode == 'uniform':
        return np.arange(0, vlen, vlen / num_frm, dtype=int).tolist()
    if mode == 'rand':
        return sorted(random.sample(range(vlen), num_frm))
    head = sorted(random.sample(range(vlen // 2), num_frm // 2))
    tail = sorted(random.sample(range(vlen // 2, vlen), num_frm // 2))
    return head + tail


@pytest.mark.parametrize('mode', ['rand', 'headtail'])
@pytest.mark.parametrize('num_frames', [4, 8, 16])
def test_random_modes_equal_official_with_the_same_seed(mode, num_frames):
    transform = ALPROSampleFrames(num_frames, mode=mode)
    for vlen in [num_frames, num_frames + 1, 2 * num_frames + 3, 97, 300]:
        for seed in range(3):
            random.seed(seed)
            expected = official(mode, vlen, num_frames)
            random.seed(seed)
            assert transform.sample(vlen).tolist() == expected, (vlen, seed)


@pytest.mark.parametrize('num_frames', [1, 2, 4, 8, 16, 32])
def test_uniform_equals_official_for_every_length(num_frames):
    transform = ALPROSampleFrames(num_frames, mode='uniform')
    for vlen in range(num_frames, 1200):
        assert transform.sample(vlen).tolist() == official('uniform', vlen, num_frames), vlen


def test_uniform_reproduces_the_rounded_down_step():
    # NumPy's integer arange steps by int(vlen / num_frm): frames 0..7 of a 15-frame video
    assert ALPROSampleFrames(8, 'uniform').sample(15).tolist() == list(range(8))
    assert ALPROSampleFrames(8, 'uniform').sample(31).tolist() == [0, 3, 6, 9, 12, 15, 18, 21]
    # where float rounding makes the official expression return one index more, it is not taken
    assert len(official('uniform', 17, 7)) == 8
    assert ALPROSampleFrames(7, 'uniform').sample(17).tolist() == official('uniform', 17, 7)[:7]


def test_uniform_does_not_draw_random_numbers():
    state = random.getstate()
    np_state = np.random.get_state()[1].copy()
    ALPROSampleFrames(8, 'uniform').sample(40)
    assert random.getstate() == state and np.array_equal(np.random.get_state()[1], np_state)


@pytest.mark.parametrize('mode', ['rand', 'uniform', 'headtail'])
@pytest.mark.parametrize('vlen', [1, 2, 3, 5, 7])
def test_short_videos_give_num_frames_sorted_indices_covering_the_video(mode, vlen):
    random.seed(vlen)
    inds = ALPROSampleFrames(8, mode=mode).sample(vlen)
    assert inds.dtype == np.int64 and len(inds) == 8
    assert np.all(np.diff(inds) >= 0) and inds.min() >= 0 and inds.max() < vlen
    assert set(inds.tolist()) == set(range(vlen))  # every frame is used


def test_short_video_fallbacks():
    assert ALPROSampleFrames(8, 'uniform').sample(3).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert ALPROSampleFrames(4, 'headtail').sample(1).tolist() == [0, 0, 0, 0]
    random.seed(0)
    # headtail of 5 frames: the head [0, 2) is shorter than 4 frames, the tail [2, 5) too
    head_tail = ALPROSampleFrames(8, 'headtail').sample(5).tolist()
    assert sorted(head_tail[:4]) == head_tail[:4] and set(head_tail[:4]) == {0, 1}
    assert set(head_tail[4:]) == {2, 3, 4}
    # 7 frames for 8: the head [0, 3) is one frame short, the tail [3, 7) has exactly 4
    inds = ALPROSampleFrames(8, 'headtail').sample(7).tolist()
    assert set(inds[:4]) == {0, 1, 2} and inds[4:] == [3, 4, 5, 6]


def test_transform_keys_and_start_index():
    transform = ALPROSampleFrames(4, mode='uniform')
    results = transform(dict(total_frames=16, start_index=1))
    assert results['frame_inds'].tolist() == [1, 5, 9, 13]
    assert (results['clip_len'], results['frame_interval'], results['num_clips']) == (4, None, 1)
    assert transform(dict(total_frames=16))['frame_inds'].tolist() == [0, 4, 8, 12]
    with pytest.raises(ValueError, match='no frames'):
        transform(dict(total_frames=0, filename='empty.mp4'))
    assert repr(transform) == "ALPROSampleFrames(num_frames=4, mode='uniform')"


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_frames=0), 'num_frames'),
    (dict(num_frames=2.0), 'num_frames'),
    (dict(num_frames=4, mode='random'), 'mode'),
    (dict(num_frames=5, mode='headtail'), 'even'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ALPROSampleFrames(**kwargs)


def test_decord_pipeline_decodes_the_official_frames(tmp_path):
    pytest.importorskip('decord')
    # frame t is filled with the value 10 * t, so the decoded frames tell which indices were read
    frames = np.stack([np.full((32, 32, 3), 10 * t, dtype=np.uint8) for t in range(20)])
    path = str(tmp_path / 'ramp.mp4')
    write_video(path, frames, fps=8)
    with DefaultScope.overwrite_default_scope('videoalign'):
        pipeline = Compose([
            TRANSFORMS.build(t) for t in [
                dict(type='DecordInit'),
                dict(type='ALPROSampleFrames', num_frames=8, mode='rand'),
                dict(type='DecordDecode'),
            ]
        ])
    random.seed(3)
    results = pipeline(dict(filename=path, start_index=0, modality='RGB'))
    random.seed(3)
    expected = official('rand', 20, 8)
    assert results['frame_inds'].tolist() == expected
    means = [float(img.mean()) for img in results['imgs']]
    assert len(means) == 8 and np.allclose(means, [10 * t for t in expected], atol=4)
