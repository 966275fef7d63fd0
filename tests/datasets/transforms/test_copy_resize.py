"""CopyResize: the tokenizer's resized copy of the augmented frames, in FormatShape's layout."""
import mmcv
import numpy as np
import pytest
from mmaction.datasets.transforms import FormatShape

from videoalign.datasets.transforms import CopyResize
from videoalign.registry import TRANSFORMS


def _frames(num: int, height: int = 12, width: int = 16, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(num)]


def _constant_frames(num: int, height: int = 12, width: int = 16) -> list:
    """Frame ``i`` filled with ``i`` in channel 0, ``100 + i`` in channel 1 and ``200 - i`` in channel 2."""
    return [np.broadcast_to(np.array([i, 100 + i, 200 - i], np.uint8), (height, width, 3)).copy() for i in range(num)]


def test_video_layout_matches_format_shape_on_the_resized_frames():
    frames = _frames(12)  # 2 crops x 2 clips x 3 frames
    results = CopyResize(scale=(8, 6), input_format='NCTHW')(dict(imgs=list(frames), clip_len=3, num_clips=2))
    copy = results['imgs_second']
    assert copy.shape == (4, 3, 3, 6, 8) and copy.dtype == np.uint8 and copy.flags.c_contiguous
    resized = [mmcv.imresize(f, (8, 6), interpolation='lanczos') for f in frames]
    expected = FormatShape('NCTHW')(dict(imgs=resized, clip_len=3, num_clips=2))['imgs']
    np.testing.assert_array_equal(copy, expected)


def test_video_layout_order_is_crop_clip_time():
    copy = CopyResize(scale=4)(dict(imgs=_constant_frames(12), clip_len=3, num_clips=2))['imgs_second']
    for crop in range(2):
        for clip in range(2):
            for t in range(3):
                i = crop * 6 + clip * 3 + t
                np.testing.assert_array_equal(copy[crop * 2 + clip, :, t, 0, 0], [i, 100 + i, 200 - i])


def test_image_layout_and_lanczos_values():
    frames = _frames(1, 40, 30)
    results = CopyResize(scale=(15, 20), input_format='NCHW')(dict(imgs=list(frames), clip_len=1, num_clips=1))
    copy = results['imgs_second']
    assert copy.shape == (1, 3, 20, 15)  # scale is (w, h)
    expected = mmcv.imresize(frames[0], (15, 20), interpolation='lanczos', backend='cv2')
    np.testing.assert_array_equal(copy[0], expected.transpose(2, 0, 1))
    bilinear = CopyResize(scale=(15, 20), interpolation='bilinear', input_format='NCHW')(dict(imgs=frames))
    assert not np.array_equal(bilinear['imgs_second'], copy)


def test_frames_are_left_unchanged_and_out_key():
    frames = _frames(2)
    results = dict(imgs=[f.copy() for f in frames], clip_len=2, num_clips=1)
    results = TRANSFORMS.build(dict(type='CopyResize', scale=(4, 4), out_key='tokenizer_imgs'))(results)
    assert 'imgs_second' not in results and results['tokenizer_imgs'].shape == (1, 3, 2, 4, 4)
    for before, after in zip(frames, results['imgs']):
        np.testing.assert_array_equal(before, after)


def test_array_of_frames_is_accepted():
    frames = np.stack(_frames(4))
    copy = CopyResize(scale=(8, 6))(dict(imgs=frames, clip_len=4, num_clips=1))['imgs_second']
    assert copy.shape == (1, 3, 4, 6, 8)


@pytest.mark.parametrize('kwargs, name', [
    (dict(scale=0), 'scale'),
    (dict(scale=(112, )), 'scale'),
    (dict(scale=(112, -1)), 'scale'),
    (dict(interpolation='cubic'), 'interpolation'),
    (dict(input_format='NTCHW'), 'input_format'),
    (dict(out_key='imgs'), 'out_key'),
])
def test_bad_arguments_raise(kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        CopyResize(**kwargs)
    assert repr(list(kwargs.values())[0]) in str(info.value)


def test_bad_samples_raise():
    gen = CopyResize(scale=4)
    float_frames = [f.astype(np.float32) for f in _frames(2)]
    with pytest.raises(TypeError, match='frame 0 is float32.*before Normalize'):
        gen(dict(imgs=float_frames, clip_len=2, num_clips=1))
    formatted = FormatShape('NCTHW')(dict(imgs=_frames(2), clip_len=2, num_clips=1))
    with pytest.raises(ValueError, match=r'\(1, 3, 2, 12, 16\); place it before FormatShape'):
        gen(formatted)
    with pytest.raises(ValueError, match='frame 1 is'):
        gen(dict(imgs=[_frames(1)[0], np.zeros((12, 16), np.uint8)], clip_len=2, num_clips=1))
    with pytest.raises(ValueError, match='5 frames do not split into clips of num_clips=2 x clip_len=2'):
        gen(dict(imgs=_frames(5), clip_len=2, num_clips=2))
    with pytest.raises(KeyError, match='clip_len'):
        gen(dict(imgs=_frames(2)))
    with pytest.raises(ValueError, match="modality 'Flow'"):
        gen(dict(imgs=_frames(2), clip_len=2, num_clips=1, modality='Flow'))
    with pytest.raises(ValueError, match='no frames'):
        gen(dict(imgs=[], clip_len=2, num_clips=1))
