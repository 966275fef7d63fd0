"""Frames of the synthetic training clips as an image set (BEVT's image stream on synthetic data)."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from videoalign.datasets.synthetic import (SYNTHETIC_CLASSES, frame_indices, generate_synthetic_dataset,
                                           generate_synthetic_images, make_clip)

TINY = dict(num_train_per_class=2, num_val_per_class=1, num_test_per_class=1, num_frames=8, size=32, seed=3)


def _dataset(out_dir) -> str:
    generate_synthetic_dataset(str(out_dir), show_progress=False, **TINY)
    return str(out_dir)


def _lines(path: str) -> list:
    with open(path) as f:
        return f.read().splitlines()


def _read_rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope='module')
def dataset_dir(tmp_path_factory) -> str:
    return _dataset(tmp_path_factory.mktemp('synthetic') / 'data')


def test_frame_indices_are_part_centres():
    assert frame_indices(16, 1) == [8]
    assert frame_indices(16, 2) == [4, 12]
    assert frame_indices(8, 8) == list(range(8))
    for bad in (0, 9):
        with pytest.raises(ValueError, match='frames_per_clip'):
            frame_indices(8, bad)


def test_images_are_the_rendered_frames_with_a_list(dataset_dir):
    summary = generate_synthetic_images(dataset_dir, frames_per_clip=2, show_progress=False)
    assert not summary['reused'] and summary['num_images'] == 2 * 2 * len(SYNTHETIC_CLASSES)
    assert summary['frame_indices'] == [2, 6]
    assert summary['ann_file'] == osp.join(dataset_dir, 'synthetic_train_list_images.txt')
    lines = _lines(summary['ann_file'])
    assert len(lines) == 40 and lines[0] == 'train/move_left_0000_02.png 0' and lines[-1].endswith(' 9')
    assert sorted(os.listdir(osp.join(summary['image_root'],
                                      'train'))) == sorted(line.split(' ')[0].split('/')[1] for line in lines)
    frames = make_clip(3, 'train', 'shrink', 1, num_frames=8, size=32)[0]  # class B: the reversed clip
    for t in (2, 6):
        image = _read_rgb(osp.join(summary['image_root'], f'train/shrink_0001_{t:02d}.png'))
        np.testing.assert_array_equal(image, frames[t])  # lossless, RGB
    assert f'train/shrink_0001_06.png {SYNTHETIC_CLASSES.index("shrink")}' in lines


def test_idempotent_then_rewritten_for_other_arguments(tmp_path):
    out_dir = _dataset(tmp_path / 'data')
    first = generate_synthetic_images(out_dir, show_progress=False)
    image = osp.join(first['image_root'], 'train', 'grow_0000_04.png')
    stamps = [os.stat(p).st_mtime_ns for p in (first['ann_file'], first['meta_file'], image)]
    again = generate_synthetic_images(out_dir, show_progress=False)
    assert again['reused'] and dict(again, reused=False) == first
    assert [os.stat(p).st_mtime_ns for p in (first['ann_file'], first['meta_file'], image)] == stamps
    os.remove(image)  # an incomplete set is written again
    assert not generate_synthetic_images(out_dir, show_progress=False)['reused'] and osp.isfile(image)
    jpg = generate_synthetic_images(out_dir, frames_per_clip=2, ext='jpg', show_progress=False)
    names = os.listdir(osp.join(jpg['image_root'], 'train'))
    assert not jpg['reused'] and len(names) == 40 and all(n.endswith('.jpg') for n in names)  # no stale PNG
    decoded = _read_rgb(osp.join(jpg['image_root'], 'train', 'grow_0000_02.jpg')).astype(float)
    assert np.abs(decoded - make_clip(3, 'train', 'grow', 0, num_frames=8, size=32)[0][2]).mean() < 8  # lossy
    with open(jpg['meta_file']) as f:
        meta = json.load(f)
    assert meta['complete'] and meta['dataset']['seed'] == 3 and meta['ext'] == 'jpg'
    # regenerating the videos with other parameters removes the images of the old clips
    generate_synthetic_dataset(out_dir, show_progress=False, overwrite=True, **dict(TINY, seed=4))
    assert not osp.exists(jpg['ann_file']) and not osp.exists(osp.join(jpg['image_root'], 'train'))


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no complete synthetic dataset'):
        generate_synthetic_images(tmp_path / 'nothing', show_progress=False)
    out_dir = _dataset(tmp_path / 'data')
    with pytest.raises(ValueError, match="ext must be one of .*got 'gif'"):
        generate_synthetic_images(out_dir, ext='gif')
    with pytest.raises(ValueError, match='frames_per_clip must be at most num_frames=8, got 9'):
        generate_synthetic_images(out_dir, frames_per_clip=9)
    os.makedirs(osp.join(out_dir, 'images', 'train'))  # images of unknown origin
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_synthetic_images(out_dir, show_progress=False)
    assert not generate_synthetic_images(out_dir, overwrite=True, show_progress=False)['reused']


def test_image_list_dataset_reads_them(dataset_dir):
    from mmengine.registry import DefaultScope

    from videoalign.datasets import ImageListDataset
    summary = generate_synthetic_images(dataset_dir, frames_per_clip=2, show_progress=False)
    with DefaultScope.overwrite_default_scope('videoalign'):  # the pipeline names mmaction2's transforms
        dataset = ImageListDataset(
            summary['ann_file'],
            pipeline=[dict(type='ImageDecode'), dict(type='FormatShape', input_format='NCHW')],
            data_prefix=dict(img=summary['image_root']))
    assert len(dataset) == 40
    sample = dataset[5]
    assert sample['imgs'].shape == (1, 3, 32, 32) and sample['label'] == 1


def _cli():
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'data', 'synthetic', 'generate.py')
    spec = importlib.util.spec_from_file_location('synthetic_generate_images', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_line_writes_images_by_default(tmp_path, capsys):
    module = _cli()
    argv = ['--num-train', '1', '--num-val', '1', '--num-test', '1', '--num-frames', '4', '--size', '32']
    module.main(['--out-dir', str(tmp_path / 'on')] + argv + ['--frames-per-clip', '2'])
    out = capsys.readouterr().out
    assert 'images:' in out and '20 frames' in out and 'synthetic_train_list_images.txt' in out
    assert len(_lines(str(tmp_path / 'on' / 'synthetic_train_list_images.txt'))) == 20
    module.main(['--out-dir', str(tmp_path / 'on')] + argv + ['--frames-per-clip', '2'])
    assert 'reused' in capsys.readouterr().out
    module.main(['--out-dir', str(tmp_path / 'off'), '--no-frames-as-images'] + argv)
    assert 'images:' not in capsys.readouterr().out
    assert not osp.exists(tmp_path / 'off' / 'images') and osp.isfile(tmp_path / 'off' / 'meta.json')
    with pytest.raises(SystemExit, match='frames_per_clip'):
        module.main(['--out-dir', str(tmp_path / 'on')] + argv + ['--frames-per-clip', '5'])
