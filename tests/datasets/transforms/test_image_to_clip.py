"""ImageToClip: an image's one frame repeated as a static clip, each frame its own copy, for the video pipeline."""
import numpy as np
import pytest
from mmaction.datasets.transforms import Flip, FormatShape
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import videoalign  # noqa: F401  (registers the transforms)
from videoalign.datasets.transforms import ImageToClip
from videoalign.registry import TRANSFORMS


def _image(h: int = 6, w: int = 8) -> np.ndarray:
    return np.arange(h * w * 3, dtype=np.uint8).reshape(h, w, 3)


def test_repeats_the_frame():
    image = _image()
    results = ImageToClip(num_frames=4)(dict(imgs=[image], img_shape=(6, 8), filename='a.jpg'))
    assert len(results['imgs']) == 4 and all(np.array_equal(f, image) for f in results['imgs'])
    assert (results['clip_len'], results['num_clips']) == (4, 1)
    assert results['frame_inds'].tolist() == [0, 0, 0, 0] and results['img_shape'] == (6, 8)
    # each frame is a copy: an in-place change of one leaves the others (and the input) as they were
    results['imgs'][0][...] = 0
    assert all(np.array_equal(f, image) for f in results['imgs'][1:]) and image.any()


def test_in_place_flip_after_it_flips_every_frame_once():
    image = _image()
    results = ImageToClip(4)(dict(imgs=[image], img_shape=(6, 8), modality='RGB'))
    results = Flip(flip_ratio=1.)(results)
    assert all(np.array_equal(f, image[:, ::-1]) for f in results['imgs'])


def test_format_shape_gives_a_clip():
    results = ImageToClip(3)(dict(imgs=np.stack([_image()]), img_shape=(6, 8)))
    results = FormatShape(input_format='NCTHW')(results)
    assert results['imgs'].shape == (1, 3, 3, 6, 8)
    assert all(np.array_equal(results['imgs'][0, :, t], results['imgs'][0, :, 0]) for t in range(3))


def test_registered_and_built_from_a_config():
    init_default_scope('videoalign')
    pipeline = Compose([dict(type='ImageToClip', num_frames=2), dict(type='FormatShape', input_format='NCTHW')])
    assert pipeline(dict(imgs=[_image()], img_shape=(6, 8)))['imgs'].shape == (1, 3, 2, 6, 8)
    assert TRANSFORMS.get('ImageToClip') is ImageToClip
    assert repr(ImageToClip(4)) == 'ImageToClip(num_frames=4)'


@pytest.mark.parametrize('num_frames', [0, -1, 2.0, True, None])
def test_bad_num_frames(num_frames):
    with pytest.raises(ValueError, match='num_frames must be an integer >= 1'):
        ImageToClip(num_frames)


def test_bad_inputs():
    with pytest.raises(KeyError, match=r'needs results\["imgs"\]'):
        ImageToClip(2)(dict(filename='a.jpg'))
    with pytest.raises(ValueError, match=r'repeats the one frame of an image, got 2 frames \(v.mp4\)'):
        ImageToClip(2)(dict(imgs=[_image(), _image()], filename='v.mp4'))
