"""videoalign.compat.mmaction_numpy2: mmaction2's ColorJitter hue shift overflows under NumPy 2; the fix computes
what NumPy 1 computed."""
import numpy as np
import pytest

import videoalign  # noqa: F401  (applies the compat patches)
from videoalign.compat.mmaction_numpy2 import shift_hue

# (hsv[..., 0] + offset) % 180 for hue = 0, 5, 100, 179, recorded with numpy 1.26.4 (uint8 hue, Python int offset);
# shift_hue equalled numpy 1.26.4 for every hue in [0, 180) and every offset in [-127, 127]
NUMPY1_HUE_SHIFTS = {
    -127: [53, 58, 153, 52],
    -11: [169, 174, 89, 168],
    -1: [179, 4, 99, 178],
    0: [0, 5, 100, 179],
    11: [11, 16, 111, 10],
    76: [76, 81, 176, 75],
    77: [77, 82, 177, 0],  # uint8 wrap-around: (179 + 77) % 256 = 0
    127: [127, 132, 47, 50],
}


@pytest.fixture(scope='module')
def color_jitter():
    from mmaction.datasets.transforms import ColorJitter
    return ColorJitter


def _frame(rng: np.random.Generator) -> np.ndarray:
    """A frame as ColorJitter sees it after its other adjustments: float32, partly outside [0, 255]."""
    return rng.uniform(-20, 275, size=(24, 32, 3)).astype(np.float32)


def test_unpatched_hue_shift_overflows(color_jitter):
    original = color_jitter.adjust_hue.__wrapped__
    frame = _frame(np.random.default_rng(0))
    with pytest.raises(OverflowError, match='out of bounds for uint8'):
        original(frame, -0.05)  # the defect: offset int(-0.05 * 255) = -12 does not fit uint8
    out = color_jitter.adjust_hue(frame, -0.05)
    assert out.dtype == np.float32 and out.shape == frame.shape


def test_shift_hue_matches_numpy1():
    hue = np.array([0, 5, 100, 179], dtype=np.uint8)
    for offset, expected in NUMPY1_HUE_SHIFTS.items():
        assert shift_hue(hue, offset).tolist() == expected, offset
    every = np.arange(180, dtype=np.uint8)
    for offset in range(-127, 128):
        shifted = shift_hue(every, offset)
        assert shifted.min() >= 0 and shifted.max() < 180
        if -1 - int(every.max()) < offset < 256 - int(every.max()):  # no uint8 wrap-around: a plain rotation
            assert np.array_equal(shifted, (every.astype(int) + offset) % 180)


def test_patched_equals_original_where_the_original_does_not_raise(color_jitter):
    original, patched = color_jitter.adjust_hue.__wrapped__, color_jitter.adjust_hue
    rng = np.random.default_rng(1)
    raised = compared = 0
    for factor in rng.uniform(-0.5, 0.5, size=200):
        frame = _frame(rng)
        try:
            expected = original(frame, factor)
        except OverflowError:
            raised += 1
            continue
        np.testing.assert_array_equal(patched(frame, factor), expected)
        compared += 1
    assert raised > 50 and compared > 50  # both kinds of draws were seen


def test_color_jitter_transform_survives_many_draws(color_jitter):
    np.random.seed(0)
    jitter = color_jitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.5)
    frames = [np.random.randint(0, 256, size=(16, 16, 3), dtype=np.uint8) for _ in range(4)]
    for _ in range(60):
        out = jitter(dict(imgs=list(frames)))['imgs']
        assert len(out) == 4 and all(f.dtype == np.uint8 and f.shape == (16, 16, 3) for f in out)
