"""ImageListDataset: a checked image list whose samples are one-frame clips; undecodable images skipped."""
import logging
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from videoalign.datasets import ImageListDataset, VideoDataset, image_is_readable
from videoalign.registry import DATASETS
from videoalign.utils import register_all_modules

PIPELINE = [
    dict(type='ImageDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
GOOD = ['red.png', 'green.jpg', 'blue.png']
COLORS = {'red.png': (255, 0, 0), 'green.jpg': (0, 255, 0), 'blue.png': (0, 0, 255)}


def _write(path, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


def _infos(dataset) -> list:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.fixture(scope='module')
def image_dir(tmp_path_factory) -> str:
    """Three good images (RGB colours), a garbage file and an empty file under ``<root>/train``."""
    root = tmp_path_factory.mktemp('images')
    (root / 'train').mkdir()
    for name, rgb in COLORS.items():
        image = np.zeros((24, 20, 3), np.uint8)
        image[:] = rgb
        assert cv2.imwrite(str(root / 'train' / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    (root / 'train' / 'garbage.jpg').write_bytes(b'\x00not an image\xff' * 64)
    (root / 'train' / 'empty.png').write_bytes(b'')
    register_all_modules(init_default_scope=False)
    return str(root)


def _build(image_dir: str, names: list, **kwargs) -> ImageListDataset:
    """An ImageListDataset (built through the registry) over ``train/<name>``, labelled 0, 1, 2, ... in order."""
    ann = _write(
        osp.join(image_dir, f'list_{abs(hash(tuple(names)))}.txt'),
        ''.join(f'train/{name} {i}\n' for i, name in enumerate(names)))
    cfg = dict(type='ImageListDataset', ann_file=ann, data_prefix=dict(img=image_dir), pipeline=PIPELINE)
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('videoalign'):
        return DATASETS.build(cfg)


class _Messages(logging.Handler):
    """Collects the messages of mmengine's current logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def mm_messages():
    logger = MMLogger.get_current_instance()
    handler = _Messages()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


# ---------------------------------------------------------------- parsing


def test_lines_become_one_frame_samples(tmp_path):
    ann = _write(tmp_path / 'list.txt', '\ufeffn01/a.JPEG 3\n\nn02/b.jpg\n')
    dataset = ImageListDataset(ann, pipeline=[], data_prefix=dict(img='/data/imagenet/train'))
    assert isinstance(dataset, VideoDataset)
    infos = _infos(dataset)
    assert [i['img_path'] for i in infos] == ['/data/imagenet/train/n01/a.JPEG', '/data/imagenet/train/n02/b.jpg']
    assert [i['filename'] for i in infos] == [i['img_path'] for i in infos]
    assert [i['label'] for i in infos] == [3, -1]  # a path without a label gets -1
    assert [i['lineno'] for i in infos] == [1, 3]
    assert all(i['clip_len'] == 1 and i['num_clips'] == 1 and i['modality'] == 'RGB' for i in infos)


def test_default_prefix_keeps_the_listed_path(tmp_path):
    dataset = ImageListDataset(_write(tmp_path / 'list.txt', 'x/a.png 1\n'), pipeline=[])
    assert _infos(dataset)[0]['img_path'] == 'x/a.png'


@pytest.mark.parametrize('bad_line', ['b.jpg notanint', 'b.jpg 1 2'])
def test_bad_line_names_file_and_line(tmp_path, bad_line):
    ann = _write(tmp_path / 'list.txt', f'a.jpg 0\n\n{bad_line}\n')
    with pytest.raises(ValueError) as info:
        ImageListDataset(ann, pipeline=[])
    assert f'{ann}:3:' in str(info.value) and repr(bad_line) in str(info.value)


def test_missing_list_and_wrong_prefix_raise(tmp_path):
    missing = str(tmp_path / 'nowhere.txt')
    with pytest.raises(FileNotFoundError, match=missing):
        ImageListDataset(missing, pipeline=[])
    with pytest.raises(ValueError, match=r"data_prefix=dict\(img=<folder>\), got \{'video': 'x'\}"):
        ImageListDataset(_write(tmp_path / 'list.txt', 'a.jpg 0\n'), pipeline=[], data_prefix=dict(video='x'))


# ---------------------------------------------------------------- loading and unreadable images


def test_registry_builds_it_and_the_pipeline_decodes_rgb(image_dir):
    dataset = _build(image_dir, GOOD)
    assert type(dataset) is ImageListDataset
    for index, name in enumerate(GOOD):
        sample = dataset[index]
        assert tuple(sample['inputs'].shape) == (1, 3, 16, 16) and sample['inputs'].dtype == torch.uint8
        colour = sample['inputs'][0, :, 8, 8].tolist()
        assert np.abs(np.subtract(colour, COLORS[name])).max() <= 2, (name, colour)  # RGB order, JPEG tolerance
        assert sample['data_samples'].gt_label.tolist() == [index]
        assert 'skipped_videos' not in sample['data_samples'].metainfo


@pytest.mark.parametrize('bad', ['garbage.jpg', 'empty.png', 'missing.png'])
def test_corrupt_image_is_skipped_and_reported_in_test_mode(image_dir, mm_messages, bad):
    names = [GOOD[0], bad, GOOD[1]]
    dataset = _build(image_dir, names, test_mode=True)
    sample = dataset[1]
    bad_path = osp.join(image_dir, 'train', bad)
    assert sample['data_samples'].gt_label.tolist() == [2]  # the next image stands in
    assert sample['data_samples'].metainfo['skipped_videos'] == [bad_path]
    assert torch.equal(sample['inputs'], dataset[2]['inputs'])
    assert any('skipping unreadable image' in m and bad_path in m for m in mm_messages)


def test_corrupt_image_in_training_draws_another(image_dir, monkeypatch):
    dataset = _build(image_dir, [GOOD[0], 'garbage.jpg', GOOD[1], GOOD[2]])
    monkeypatch.setattr(dataset, '_rand_another', lambda: 3)
    sample = dataset[1]
    assert sample['data_samples'].gt_label.tolist() == [3]
    assert sample['data_samples'].metainfo['skipped_videos'] == [osp.join(image_dir, 'train', 'garbage.jpg')]
    assert dataset[1]['data_samples'].metainfo['skipped_videos']  # remembered: not decoded again


def test_decodable_image_with_broken_pipeline_reraises(image_dir, mm_messages):

    def broken(results):
        raise ZeroDivisionError('broken transform')

    dataset = _build(image_dir, GOOD, pipeline=PIPELINE + [broken])
    with pytest.raises(ZeroDivisionError, match='broken transform'):
        dataset[0]
    assert not any('skipping' in m for m in mm_messages)


def test_image_is_readable(image_dir):
    for name in GOOD:
        assert image_is_readable(osp.join(image_dir, 'train', name)) is True
    for name in ('garbage.jpg', 'empty.png', 'missing.png'):
        assert image_is_readable(osp.join(image_dir, 'train', name)) is False, name
    assert image_is_readable(image_dir) is False


def test_mmaction_image_augmentations_work_on_the_samples(image_dir):
    pipeline = [
        dict(type='ImageDecode'),
        dict(type='RandomRescale', scale_range=(20, 28)),
        dict(type='RandomCrop', size=16),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(12, 12), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs'),
    ]
    sample = _build(image_dir, GOOD, pipeline=pipeline)[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 12, 12) and sample['inputs'].dtype == torch.uint8


def test_all_unreadable_raises_naming_images(image_dir):
    names = ['garbage.jpg', 'empty.png', 'missing.png']
    dataset = _build(image_dir, names, max_skips=2)
    with pytest.raises(RuntimeError, match='3 images in a row could not be read') as info:
        dataset[0]
    assert image_dir in str(info.value) and dataset.ann_file in str(info.value)
    dataset = _build(image_dir, names, test_mode=True)
    with pytest.raises(RuntimeError, match=r'none of the 3 images listed in .* could be read') as info:
        dataset[1]
    assert image_dir in str(info.value)
