"""Tests of the synthetic temporal-order video dataset."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest

from videoalign.datasets.synthetic import (SYNTHETIC_CLASSES, TEMPORAL_PAIRS, generate_synthetic_dataset, make_clip,
                                           render_clip, sample_clip_params)

decord = pytest.importorskip('decord')

TINY = dict(num_train_per_class=2, num_val_per_class=2, num_test_per_class=2, num_frames=8, size=32, fps=8)
SPLITS = ('train', 'val', 'test')


def _generate(out_dir, **kwargs) -> dict:
    """Generate the tiny dataset without a progress bar."""
    return generate_synthetic_dataset(str(out_dir), **dict(TINY, show_progress=False, **kwargs))


def _read_lines(path: str) -> list:
    with open(path) as f:
        return f.read().splitlines()


def _decode(video_root: str, names: list) -> np.ndarray:
    """Decode all frames of the videos ``names`` into one array."""
    clips = []
    for name in names:
        reader = decord.VideoReader(osp.join(video_root, name))
        clips.append(reader.get_batch(list(range(len(reader)))).asnumpy())
    return np.stack(clips)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    return _generate(tmp_path_factory.mktemp('synthetic') / 'data')


def test_layout_and_annotations(tiny):
    assert not tiny['reused']
    assert tiny['classes'] == list(SYNTHETIC_CLASSES)
    assert tiny['num_clips'] == dict(train=20, val=20, test=20)
    assert _read_lines(tiny['label_map']) == list(SYNTHETIC_CLASSES)
    with open(tiny['meta_file']) as f:
        meta = json.load(f)
    assert meta['params']['seed'] == 0 and meta['format_version'] >= 1
    for split in SPLITS:
        assert osp.isfile(osp.join(tiny['out_dir'], f'synthetic_{split}_list_videos.txt'))
        lines = _read_lines(tiny['ann_files'][split])
        assert len(lines) == 20
        names = []
        for line in lines:
            name, label = line.split(' ')
            label = int(label)
            assert 0 <= label < len(SYNTHETIC_CLASSES)
            assert name.startswith(f'{split}/{SYNTHETIC_CLASSES[label]}_') and name.endswith('.mp4')
            names.append(name)
        assert sorted(os.listdir(osp.join(tiny['video_root'], split))) == sorted(n.split('/')[1] for n in names)
        with open(tiny['caption_files'][split]) as f:
            captions = json.load(f)
        assert list(captions) == names
        for name, texts in captions.items():
            assert 1 <= len(texts) <= 2 and all(isinstance(t, str) and t.startswith('a') for t in texts)
        frames = _decode(tiny['video_root'], names)
        assert frames.shape == (20, 8, 32, 32, 3)


def test_decoded_video_matches_render(tiny):
    frames, _, captions = make_clip(0, 'val', 'grow', 1, num_frames=8, size=32)
    decoded = _decode(tiny['video_root'], ['val/grow_0001.mp4'])[0]
    assert np.abs(decoded.astype(float) - frames).mean() < 8  # lossy, but the same content, in RGB order
    with open(tiny['caption_files']['val']) as f:
        assert json.load(f)['val/grow_0001.mp4'] == captions


def test_deterministic(tiny, tmp_path):
    again = _generate(tmp_path / 'again')
    other = _generate(tmp_path / 'other', seed=1)
    for key in ('ann_files', 'caption_files'):
        for split in SPLITS:
            assert _read_lines(tiny[key][split]) == _read_lines(again[key][split])
    names = [line.split(' ')[0] for line in _read_lines(tiny['ann_files']['train'])]
    first = _decode(tiny['video_root'], names)
    np.testing.assert_array_equal(first, _decode(again['video_root'], names))
    assert np.abs(first.astype(float) - _decode(other['video_root'], names)).mean() > 10


def test_idempotent_and_overwrite(tmp_path):
    out_dir = tmp_path / 'data'
    first = _generate(out_dir)
    files = [
        first['meta_file'], first['label_map'], *first['ann_files'].values(),
        osp.join(first['video_root'], 'train', 'move_left_0000.mp4')
    ]
    mtimes = [os.stat(p).st_mtime_ns for p in files]
    second = _generate(out_dir)
    assert second['reused'] and dict(second, reused=False) == first
    assert [os.stat(p).st_mtime_ns for p in files] == mtimes
    with pytest.raises(FileExistsError, match='overwrite') as info:
        _generate(out_dir, seed=3)
    assert str(out_dir) in str(info.value)
    # an interrupted run with the same parameters is completed, not refused
    folder = osp.join(first['video_root'], 'test')
    before = _decode(first['video_root'], ['test/disappear_0001.mp4'])
    os.remove(osp.join(folder, 'disappear_0001.mp4'))
    stale, running = '.tmp-999999999-disappear_0001.mp4', f'.tmp-{os.getppid()}-disappear_0001.mp4'
    for name in (stale, running):
        with open(osp.join(folder, name), 'wb') as f:
            f.write(b'truncated')
    assert not _generate(out_dir)['reused']
    np.testing.assert_array_equal(_decode(first['video_root'], ['test/disappear_0001.mp4']), before)
    assert not osp.exists(osp.join(folder, stale)) and osp.exists(osp.join(folder, running))
    assert _generate(out_dir)['reused']
    third = _generate(out_dir, num_train_per_class=1, overwrite=True)
    assert not third['reused'] and third['num_clips']['train'] == 10
    assert len(os.listdir(osp.join(third['video_root'], 'train'))) == 10


@pytest.mark.parametrize('kwargs, name', [
    (dict(num_train_per_class=0), 'num_train_per_class'),
    (dict(num_val_per_class=-1), 'num_val_per_class'),
    (dict(num_test_per_class=1.5), 'num_test_per_class'),
    (dict(size=16), 'size'),
    (dict(size=33), 'size'),
    (dict(num_frames=3), 'num_frames'),
    (dict(fps=0), 'fps'),
    (dict(seed=-1), 'seed'),
])
def test_bad_arguments(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        _generate(tmp_path / 'bad', **kwargs)
    assert not osp.exists(tmp_path / 'bad')


def test_time_reversal_pairs():
    assert [p for pair in TEMPORAL_PAIRS for p in pair] == list(SYNTHETIC_CLASSES)
    for label_a, label_b in TEMPORAL_PAIRS:
        for i in range(3):
            for sampled_for in (label_a, label_b):
                params = sample_clip_params(sampled_for, np.random.default_rng([7, i]), num_frames=8, size=32)
                forward = render_clip(label_a, params)
                assert forward.dtype == np.uint8 and forward.shape == (8, 32, 32, 3)
                np.testing.assert_array_equal(render_clip(label_b, params), forward[::-1])
                assert not np.array_equal(forward[0], forward[-1])
            # the parameter distribution is the same for both classes of a pair
            assert (sample_clip_params(label_a, np.random.default_rng([7, i]), 8,
                                       32) == sample_clip_params(label_b, np.random.default_rng([7, i]), 8, 32))
    with pytest.raises(ValueError, match='pair'):
        render_clip('grow', sample_clip_params('appear', np.random.default_rng(0)))


def _per_frame_descriptors(frames: np.ndarray) -> dict:
    """Area, centroid and orientation of the foreground of each frame of a clip."""
    frames = frames.astype(np.float32)
    background = np.median(frames.reshape(-1, 3), axis=0)
    mask = np.abs(frames - background).sum(-1) > 60
    num_frames, size = mask.shape[:2]
    ys, xs = np.mgrid[:size, :size] / size
    area = mask.mean((1, 2))
    weight = mask / np.maximum(mask.sum((1, 2), keepdims=True), 1)
    cx, cy = (weight * xs).sum((1, 2)), (weight * ys).sum((1, 2))
    dx, dy = xs - cx[:, None, None], ys - cy[:, None, None]
    mu20, mu02, mu11 = (weight * dx**2).sum((1, 2)), (weight * dy**2).sum((1, 2)), (weight * dx * dy).sum((1, 2))
    doubled = np.arctan2(2 * mu11, mu20 - mu02)  # twice the orientation of the main axis
    visible = area > 0
    cx, cy = np.where(visible, cx, 0.5), np.where(visible, cy, 0.5)
    return dict(area=area, cx=cx, cy=cy, doubled=doubled, visible=visible)


def _order_free_statistics(frames: np.ndarray) -> np.ndarray:
    """Statistics of the foreground over the frames that do not depend on their order."""
    d = _per_frame_descriptors(frames)
    resultant = np.abs(np.exp(1j * d['doubled'][d['visible']]).mean())
    area = d['area'][d['visible']]
    stats = [resultant, d['visible'].mean(), np.log(area.max() / area.min())]
    for key in ('area', 'cx', 'cy'):
        values = d[key][d['visible']]
        stats += [values.mean(), values.std(), values.min(), values.max()]
    return np.array(stats)


def _mean_frame(frames: np.ndarray) -> np.ndarray:
    """The time-mean of the frames at 4 x 4 pixels."""
    small = frames.reshape(frames.shape[0], 4, frames.shape[1] // 4, 4, frames.shape[2] // 4, 3).mean((0, 2, 4))
    return small.ravel() / 255


def _ordered_features(frames: np.ndarray) -> np.ndarray:
    """Changes from the first to the last frame, which keep the time order."""
    d = _per_frame_descriptors(frames)
    both = d['visible'][1:] & d['visible'][:-1]
    step = np.angle(np.exp(1j * np.diff(d['doubled'])))  # wrapped change of the doubled orientation
    first, last = slice(None, len(frames) // 2), slice(len(frames) // 2, None)
    return np.array([
        d['area'][-1] - d['area'][0], d['cx'][-1] - d['cx'][0], d['cy'][-1] - d['cy'][0], step[both].sum(),
        d['visible'][last].mean() - d['visible'][first].mean()
    ])


def _nearest_centroid_accuracy(train_x, train_y, test_x, test_y) -> float:
    """Accuracy of a nearest-centroid classifier on standardised features."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    classes = np.unique(train_y)
    centroids = np.stack([train_x[train_y == c].mean(0) for c in classes])
    distances = ((test_x[:, None] - centroids[None])**2).sum(-1)
    return float((classes[distances.argmin(1)] == test_y).mean())


@pytest.fixture(scope='module')
def in_memory_clips() -> dict:
    """Rendered clips (train: 20 per class, test: 60 per class), 10 frames of 32 x 32."""
    clips = {}
    for split, count in (('train', 20), ('test', 60)):
        frames, labels = [], []
        for label in range(len(SYNTHETIC_CLASSES)):
            for index in range(count):
                frames.append(make_clip(0, split, label, index, num_frames=10, size=32)[0])
                labels.append(label)
        clips[split] = (frames, np.array(labels))
    return clips


def test_time_agnostic_classifier_is_at_chance_within_pairs(in_memory_clips):
    (train, train_y), (test, test_y) = in_memory_clips['train'], in_memory_clips['test']
    features = {}
    for fn in (_order_free_statistics, _mean_frame, _ordered_features):
        features[fn.__name__] = (np.stack([fn(f) for f in train]), np.stack([fn(f) for f in test]))
    # the order-free statistics do describe the clips: they tell the pairs apart
    train_x, test_x = features['_order_free_statistics']
    assert _nearest_centroid_accuracy(train_x, train_y // 2, test_x, test_y // 2) > 0.9
    # but within a pair the classes differ only in time order (120 test clips per pair: std 0.046 at chance)
    results = {}
    for name, (train_x, test_x) in features.items():
        accuracies = []
        for pair in range(len(TEMPORAL_PAIRS)):
            tr, te = train_y // 2 == pair, test_y // 2 == pair
            accuracies.append(_nearest_centroid_accuracy(train_x[tr], train_y[tr], test_x[te], test_y[te]))
        results[name] = np.round(accuracies, 3)
    for name in ('_order_free_statistics', '_mean_frame'):
        assert 0.4 < results[name].mean() < 0.6, results
        assert np.all((results[name] > 0.3) & (results[name] < 0.7)), results
    ordered = results['_ordered_features']
    assert ordered.mean() > 0.9 and np.all(ordered > 0.8), results


def test_command_line(tmp_path, capsys):
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'data', 'synthetic', 'generate.py')
    spec = importlib.util.spec_from_file_location('synthetic_generate', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = [
        '--out-dir',
        str(tmp_path / 'cli'), '--num-train', '1', '--num-val', '1', '--num-test', '1', '--num-frames', '4', '--size',
        '32', '--seed', '5'
    ]
    module.main(argv)
    out = capsys.readouterr().out
    assert 'train:' in out and '10 clips' in out and 'synthetic_test_list_videos.txt' in out
    assert len(_read_lines(str(tmp_path / 'cli' / 'synthetic_val_list_videos.txt'))) == 10
    module.main(argv)
    assert 'reused' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='--overwrite'):
        module.main(argv[:-1] + ['6'])
    with pytest.raises(SystemExit, match='num_frames'):
        module.main(argv + ['--num-frames', '3'])
