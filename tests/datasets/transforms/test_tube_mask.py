"""TubeMaskGenerator: BEVT's video tube masks (one 2D block mask over a random cyclic span of time)."""
import numpy as np
import pytest
from mmcv.transforms import Compose

from videoalign.datasets.transforms import TubeMaskGenerator
from videoalign.registry import TRANSFORMS

SMALL = dict(input_size=6, num_masking_patches=12, min_num_patches=2)


def _positions(tube: np.ndarray) -> list:
    """The masked temporal positions of one clip's ``(T', h, w)`` tube."""
    return [t for t in range(tube.shape[0]) if tube[t].any()]


def test_defaults_are_the_official_config_values_and_shapes():
    gen = TubeMaskGenerator()
    assert (gen.height, gen.width, gen.num_masking_patches, gen.min_num_patches) == (14, 14, 98, 16)
    assert gen.max_num_patches is None and gen.masked_tube_range == (0.5, 1.0) and gen.temporal_scale == 2
    np.random.seed(0)
    results = gen(dict(clip_len=16, num_clips=3))
    assert results['mask'].shape == (3, 8, 14, 14) and results['mask'].dtype == np.bool_
    assert results['target_mask'].shape == (3, 16, 14, 14) and results['target_mask'].dtype == np.bool_


def test_rectangular_grid_and_clip_len_dict():
    results = TubeMaskGenerator(
        input_size=(4, 6), num_masking_patches=10, min_num_patches=2)(
            dict(clip_len=dict(RGB=8), num_clips=1))
    assert results['mask'].shape == (1, 4, 4, 6) and results['target_mask'].shape == (1, 8, 4, 6)


def test_every_masked_position_holds_the_same_block_mask_of_exact_size():
    gen = TubeMaskGenerator()
    np.random.seed(1)
    for _ in range(10):
        mask = gen(dict(clip_len=16, num_clips=2))['mask']
        for tube in mask:
            counts = tube.sum((1, 2))
            assert set(counts.tolist()) <= {0, 98}, counts  # a position is fully masked by the block mask or not
            masked = _positions(tube)
            assert 4 <= len(masked) <= 8  # randint(int(0.5 * 8), int(1.0 * 8))
            for t in masked:
                np.testing.assert_array_equal(tube[t], tube[masked[0]])


def test_masked_positions_form_one_cyclic_run():
    gen = TubeMaskGenerator(**SMALL, masked_tube_range=(0.25, 0.5))
    np.random.seed(2)
    for _ in range(50):
        tube = gen(dict(clip_len=16, num_clips=1))['mask'][0]
        on = tube.any((1, 2))
        starts = [t for t in range(8) if on[t] and not on[t - 1]]  # t - 1 == -1 wraps to the last position
        assert len(starts) == 1, on.astype(int)


def test_start_and_length_cover_the_official_inclusive_bounds():
    gen = TubeMaskGenerator(**SMALL)
    np.random.seed(3)
    lengths, starts = set(), set()
    for _ in range(300):
        on = gen(dict(clip_len=16, num_clips=1))['mask'][0].any((1, 2))
        lengths.add(int(on.sum()))
        starts.update(t for t in range(8) if on[t] and not on[t - 1])
    assert lengths == {4, 5, 6, 7, 8}  # both ends of randint(4, 8) are drawn
    assert starts == set(range(8))  # randint(0, 7), the last start included
    assert gen.tube_length_range(8) == (4, 8)
    assert TubeMaskGenerator(**SMALL, masked_tube_range=(0.5, 0.75)).tube_length_range(8) == (4, 6)
    assert TubeMaskGenerator(**SMALL, masked_tube_range=(0.1, 0.2)).tube_length_range(4) == (1, 1)  # never empty


class _FixedDraws:
    """Stands in for ``np.random.randint``: returns queued values and records the bounds it was called with."""

    def __init__(self, values):
        self.values, self.calls = list(values), []

    def __call__(self, low, high=None, *args, **kwargs):
        self.calls.append((low, high))
        return self.values.pop(0)


def test_tube_wraps_around_cyclically(monkeypatch):
    gen = TubeMaskGenerator(**SMALL, temporal_scale=2)
    block = np.zeros((6, 6), dtype=int)
    block[1:3, 2:5] = 1
    monkeypatch.setattr(gen.block_mask_generator, 'transform', lambda results: dict(results, mask=block.copy()))
    draws = _FixedDraws([6, 5])  # start 6, length 5 on T' = 8: positions 6, 7, 0, 1, 2
    monkeypatch.setattr(np.random, 'randint', draws)
    results = gen(dict(clip_len=16, num_clips=1))
    assert draws.calls == [(0, 8), (4, 9)]  # numpy's exclusive high = the official inclusive bound + 1
    mask, target = results['mask'][0], results['target_mask'][0]
    assert _positions(mask) == [0, 1, 2, 6, 7]
    for t in (0, 1, 2, 6, 7):
        np.testing.assert_array_equal(mask[t], block.astype(bool))
    assert _positions(target) == [0, 1, 2, 3, 4, 5, 12, 13, 14, 15]


def test_tube_without_wrap(monkeypatch):
    gen = TubeMaskGenerator(**SMALL)
    np.random.seed(4)
    block = gen.block_mask_generator.transform({})['mask']
    monkeypatch.setattr(gen.block_mask_generator, 'transform', lambda results: dict(results, mask=block.copy()))
    monkeypatch.setattr(np.random, 'randint', _FixedDraws([2, 4, 7, 1]))  # clip 0: 2, 3, 4, 5; clip 1: 7
    mask = gen(dict(clip_len=16, num_clips=2))['mask']
    assert _positions(mask[0]) == [2, 3, 4, 5] and _positions(mask[1]) == [7]
    assert mask[1, 7].sum() == 12


@pytest.mark.parametrize('scale, clip_len', [(1, 6), (2, 8), (3, 12), (4, 4)])
def test_target_mask_repeats_each_position_temporal_scale_times(scale, clip_len):
    gen = TubeMaskGenerator(**SMALL, temporal_scale=scale)
    np.random.seed(5)
    results = gen(dict(clip_len=clip_len, num_clips=2))
    mask, target = results['mask'], results['target_mask']
    assert mask.shape[1] == clip_len // scale and target.shape[1] == clip_len
    for t in range(clip_len):
        np.testing.assert_array_equal(target[:, t], mask[:, t // scale])


def test_seeded_draws_are_reproducible_and_clips_differ():
    gen = TubeMaskGenerator()
    np.random.seed(6)
    first = gen(dict(clip_len=16, num_clips=4))['mask']
    np.random.seed(6)
    np.testing.assert_array_equal(gen(dict(clip_len=16, num_clips=4))['mask'], first)
    assert not all(np.array_equal(first[0], clip) for clip in first[1:])


def test_built_from_the_registry_in_a_pipeline():
    gen = TRANSFORMS.build(dict(type='TubeMaskGenerator', **SMALL))
    assert isinstance(gen, TubeMaskGenerator)
    pipeline = Compose([gen])
    assert pipeline(dict(clip_len=4, num_clips=1))['mask'].shape == (1, 2, 6, 6)


@pytest.mark.parametrize('kwargs, name', [
    (dict(input_size=1), 'input_size'),
    (dict(input_size=(14, )), 'input_size'),
    (dict(input_size='14'), 'input_size'),
    (dict(num_masking_patches=0), 'num_masking_patches'),
    (dict(num_masking_patches=197), 'num_masking_patches'),
    (dict(min_num_patches=0), 'min_num_patches'),
    (dict(max_num_patches=0), 'max_num_patches'),
    (dict(masked_tube_range=(0., 1.)), 'masked_tube_range'),
    (dict(masked_tube_range=(0.8, 0.5)), 'masked_tube_range'),
    (dict(masked_tube_range=(0.5, 1.2)), 'masked_tube_range'),
    (dict(masked_tube_range=(0.5, )), 'masked_tube_range'),
    (dict(temporal_scale=0), 'temporal_scale'),
    (dict(temporal_scale=1.5), 'temporal_scale'),
])
def test_bad_arguments_raise(kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        TubeMaskGenerator(**kwargs)
    assert repr(list(kwargs.values())[0]) in str(info.value)


@pytest.mark.parametrize('results, error, match', [
    (dict(clip_len=15, num_clips=1), ValueError, 'clip_len=15 is not a multiple of temporal_scale=2'),
    (dict(clip_len=1, num_clips=1), ValueError, 'clip_len=1 is not a multiple'),
    (dict(clip_len=0, num_clips=1), ValueError, "'clip_len'.*got 0"),
    (dict(clip_len=16, num_clips=0), ValueError, "'num_clips'.*got 0"),
    (dict(clip_len=16), KeyError, 'num_clips'),
])
def test_bad_samples_raise(results, error, match):
    with pytest.raises(error, match=match):
        TubeMaskGenerator(**SMALL)(results)
