"""TemporalConsistentRandAugment: the same operations on every frame, ALPRO's two recipes, and each operation against
an OpenCV / NumPy transcription of the official one (src/datasets/randaugment.py)."""
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import videoalign  # noqa: F401  (registers the transforms)
from videoalign.datasets.transforms import TemporalConsistentRandAugment
from videoalign.datasets.transforms.temporal_randaugment import IMAGE_OPS, OPS, VIDEO_OPS, _shear_degrees
from videoalign.registry import TRANSFORMS

FILL = (128, 128, 128)


def _scene(size: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth, asymmetric RGB frame: gradients and a blurred blob off the centre."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    blob = np.exp(-((x - 0.3 * size)**2 + (y - 0.65 * size)**2) / (2 * (size / 8)**2))
    shift = np.random.default_rng(seed).uniform(0, 40)
    frame = np.stack([x / size * 200 + shift, y / size * 150 + 50 * blob, 255 * blob], axis=-1)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _clip(num_frames: int = 4, size: int = 64) -> list:
    return [_scene(size, seed=t) for t in range(num_frames)]


def _apply(name: str, frame: np.ndarray, magnitude: float) -> np.ndarray:
    """One operation on one frame with the transform's code."""
    t = TemporalConsistentRandAugment(num_ops=1, magnitude=magnitude, ops=(name, ))
    return t.apply(torch.from_numpy(frame).permute(2, 0, 1)[None], [name])[0].permute(1, 2, 0).numpy()


# transcriptions of the official OpenCV operations (level = magnitude / 10)
def _official_warp(frame: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, matrix, (w, h), borderValue=FILL, flags=cv2.INTER_LINEAR)


def _official(name: str, frame: np.ndarray, magnitude: float) -> np.ndarray:
    level = magnitude / 10
    h, w = frame.shape[:2]
    if name == 'ShearX':
        return _official_warp(frame, np.float32([[1, level * 0.3, 0], [0, 1, 0]]))
    if name == 'ShearY':
        return _official_warp(frame, np.float32([[1, 0, 0], [level * 0.3, 1, 0]]))
    if name == 'TranslateX':
        return _official_warp(frame, np.float32([[1, 0, -level * 10], [0, 1, 0]]))
    if name == 'TranslateY':
        return _official_warp(frame, np.float32([[1, 0, 0], [0, 1, -level * 10]]))
    if name == 'Rotate':
        return _official_warp(frame, cv2.getRotationMatrix2D((w / 2, h / 2), level * 30, 1))
    if name == 'Brightness':
        table = (np.arange(256, dtype=np.float32) * (level * 1.8 + 0.1)).clip(0, 255).astype(np.uint8)
        return table[frame]
    if name == 'Solarize':
        thresh = int(level * 256)
        return np.array([el if el < thresh else 255 - el for el in range(256)]).clip(0, 255).astype(np.uint8)[frame]
    if name == 'Posterize':
        bits = int(level * 4)
        return np.bitwise_and(frame, np.uint8((255 << (8 - bits)) & 255))
    if name == 'HorizontalFlip':
        return cv2.flip(frame, 1)
    raise KeyError(name)


def _mirror(name: str, frame: np.ndarray, magnitude: float) -> np.ndarray:
    """The official operation in the opposite direction (what a sign error would give)."""
    level = -magnitude / 10
    h, w = frame.shape[:2]
    matrices = dict(
        ShearX=np.float32([[1, level * 0.3, 0], [0, 1, 0]]),
        ShearY=np.float32([[1, 0, 0], [level * 0.3, 1, 0]]),
        TranslateX=np.float32([[1, 0, -level * 10], [0, 1, 0]]),
        TranslateY=np.float32([[1, 0, 0], [0, 1, -level * 10]]),
        Rotate=cv2.getRotationMatrix2D((w / 2, h / 2), level * 30, 1))
    return _official_warp(frame, matrices[name])


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.mark.parametrize('magnitude', [5, 7])
@pytest.mark.parametrize('name', ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'])
def test_geometric_ops_follow_the_official_directions(name, magnitude):
    frame = _scene()
    ours, official, mirrored = _apply(name, frame, magnitude), _official(name, frame,
                                                                         magnitude), _mirror(name, frame, magnitude)
    # the same warp up to interpolation and a half-pixel centre convention; the other direction is far off
    assert _mean_abs(ours, official) < 1.5
    assert _mean_abs(ours, mirrored) > 3 * _mean_abs(ours, official) + 3.


@pytest.mark.parametrize('name, magnitude', [('Brightness', 7), ('Solarize', 5), ('Posterize', 5),
                                             ('HorizontalFlip', 5)])
def test_pixel_ops_equal_the_official_ones(name, magnitude):
    frame = _scene()
    assert np.abs(_apply(name, frame, magnitude).astype(int) - _official(name, frame, magnitude)).max() <= 1


@pytest.mark.parametrize('name', ['Contrast', 'Brightness', 'Sharpness', 'Color', 'Identity'])
def test_enhance_ops_do_nothing_at_magnitude_5(name):
    """The official factor 1.8 * 5 / 10 + 0.1 is 1.0: three of the ten video operations leave the frames as they are."""
    frame = _scene()
    assert np.array_equal(_apply(name, frame, 5), frame)
    if name != 'Identity':
        assert not np.array_equal(_apply(name, frame, 7), frame)


def test_every_op_keeps_shape_and_dtype():
    frames = torch.from_numpy(np.stack(_clip())).permute(0, 3, 1, 2)
    t = TemporalConsistentRandAugment(num_ops=1, magnitude=7, ops=tuple(OPS))
    for name in OPS:
        out = t.apply(frames, [name])
        assert out.shape == frames.shape and out.dtype == torch.uint8, name


@pytest.mark.parametrize('recipe', ['video', 'image'])
def test_the_same_ops_on_every_frame(recipe):
    t = TemporalConsistentRandAugment(num_ops=2, magnitude=5) if recipe == 'video' else \
        TemporalConsistentRandAugment(num_ops=2, magnitude=7, ops=IMAGE_OPS, apply_prob=0.5, replace=True)
    clip = _clip()
    drawn = set()
    for seed in range(40):
        np.random.seed(seed)
        names = t.draw()
        drawn.update(names)
        np.random.seed(seed)
        out = t(dict(imgs=[f.copy() for f in clip]))['imgs']
        assert isinstance(out, list) and len(out) == 4 and all(f.dtype == np.uint8 for f in out)
        for frame, result in zip(clip, out):  # each frame as if augmented alone with the clip's draw
            expected = t.apply(torch.from_numpy(frame).permute(2, 0, 1)[None], names)[0].permute(1, 2, 0).numpy()
            assert np.array_equal(result, expected), (seed, names)
        # identical frames stay identical
        np.random.seed(seed)
        same = t(dict(imgs=np.stack([clip[0]] * 3)))['imgs']
        assert all(np.array_equal(f, same[0]) for f in same)
    assert drawn <= set(t.ops) and len(drawn) >= 5


def test_draws_of_the_two_recipes():
    video = TemporalConsistentRandAugment()
    assert video.ops == VIDEO_OPS and len(VIDEO_OPS) == 10 and 'HorizontalFlip' in VIDEO_OPS
    np.random.seed(0)
    draws = [video.draw() for _ in range(300)]
    assert all(len(names) == 2 and names[0] != names[1] for names in draws)  # always 2 distinct, all applied
    image = TemporalConsistentRandAugment(2, 7, IMAGE_OPS, apply_prob=0.5, replace=True)
    draws = [image.draw() for _ in range(2000)]
    counts = np.bincount([len(names) for names in draws], minlength=3) / len(draws)
    assert counts == pytest.approx([0.25, 0.5, 0.25], abs=0.05)  # each of 2 applied with probability 0.5
    assert any(len(names) == 2 and names[0] == names[1] for names in draws)  # with replacement
    assert TemporalConsistentRandAugment(2, 5, apply_prob=0.).draw() == []


def test_registered_and_built_from_a_config():
    init_default_scope('videoalign')
    pipeline = Compose([dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=5)])
    out = pipeline(dict(imgs=_clip()))['imgs']
    assert len(out) == 4 and out[0].shape == (64, 64, 3)
    assert TRANSFORMS.get('TemporalConsistentRandAugment') is TemporalConsistentRandAugment
    assert 'num_ops=2, magnitude=5' in repr(TemporalConsistentRandAugment())


@pytest.mark.parametrize('kwargs, message', [
    (dict(ops=('Identity', 'Blur')), r'ops must be a non-empty list of'),
    (dict(ops=()), r'ops must be a non-empty list of'),
    (dict(num_ops=-1), 'num_ops must be an integer >= 0'),
    (dict(num_ops=3, ops=('Identity', 'Rotate')), 'cannot draw 3 distinct operations from 2'),
    (dict(magnitude=11), r'magnitude must be in \[0, 10\]'),
    (dict(apply_prob=1.5), r'apply_prob must be in \[0, 1\]'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TemporalConsistentRandAugment(**kwargs)


def test_bad_frames():
    t = TemporalConsistentRandAugment()
    with pytest.raises(ValueError, match='takes HxWx3 uint8 frames'):
        t(dict(imgs=[f.astype(np.float32) for f in _clip()]))
    with pytest.raises(ValueError, match='takes HxWx3 uint8 frames'):
        t(dict(imgs=np.zeros((1, 3, 8, 8), np.uint8)))


def test_levels_of_the_official_arg_dict():
    level = 0.5  # magnitude 5
    expected = dict(Rotate=15., Solarize=128, Contrast=1., ShearX=0.15, TranslateX=5., Posterize=2)
    assert {name: OPS[name][0](level) for name in expected} == pytest.approx(expected)
    # torchvision shears by a clockwise angle: the official factor 0.15 is tan(-angle)
    assert math.tan(math.radians(-_shear_degrees(0.15))) == pytest.approx(0.15)
