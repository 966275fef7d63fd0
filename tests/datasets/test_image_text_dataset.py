"""ImageTextDataset: ALPRO's CC3M annotation (json list of image + caption(s)), one sample per image with a caption
drawn at random and source 'image', images as static clips through the video pipeline; the synthetic image-caption
list and unigrams; and the video side's source (VideoTextRetrievalDataset(source='video'))."""
import json
import os.path as osp
import random

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

import videoalign  # noqa: F401  (registers the datasets and transforms)
from videoalign.datasets import ImageTextDataset, VideoTextRetrievalDataset
from videoalign.datasets.synthetic import generate_synthetic_images
from videoalign.datasets.synthetic_pretrain import generate_synthetic_pretrain_files, make_unigrams
from videoalign.registry import DATASETS
from videoalign.testing import make_tiny_synthetic

PIPELINE = [
    dict(type='ImageDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='ImageToClip', num_frames=4),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=('text', 'source'))
]


@pytest.fixture(autouse=True)
def videoalign_scope():
    with DefaultScope.overwrite_default_scope('videoalign'):
        yield


def _write_images(folder, names):
    for i, name in enumerate(names):
        image = np.full((24, 40, 3), 40 * i, np.uint8)
        image[:, :20, 0] = 255
        assert cv2.imwrite(osp.join(str(folder), name), image)


def _write_json(path, data) -> str:
    with open(str(path), 'w', encoding='utf-8') as f:
        json.dump(data, f)
    return str(path)


@pytest.fixture
def cc3m(tmp_path):
    """Three images; one with two captions."""
    folder = tmp_path / 'images'
    folder.mkdir()
    _write_images(folder, ['a.jpg', 'b.jpg', 'c.png'])
    ann = _write_json(tmp_path / 'cc3m.json', [
        dict(image='a.jpg', caption='a dog runs on the beach'),
        dict(image='b.jpg', caption=['a red car', 'a car parked on a street']),
        dict(image='c.png', caption=['a cat'])
    ])
    return ann, str(folder)


def test_samples(cc3m):
    ann, folder = cc3m
    dataset = ImageTextDataset(ann, PIPELINE, data_prefix=dict(img=folder))
    assert DATASETS.get('ImageTextDataset') is ImageTextDataset and len(dataset) == 3
    info = dataset.get_data_info(0)
    assert info['filename'] == info['img_path'] == osp.join(folder, 'a.jpg')
    assert (info['text'], info['source'], info['image_id']) == ('a dog runs on the beach', 'image', 0)
    assert (info['clip_len'], info['num_clips']) == (1, 1) and 'captions' not in info
    # an image with several captions gets one at random each time (one sample per image, as the official dataset)
    random.seed(0)
    texts = {dataset.get_data_info(1)['text'] for _ in range(30)}
    assert texts == {'a red car', 'a car parked on a street'}
    assert dataset.get_data_info(2)['text'] == 'a cat'


def test_images_become_static_clips(cc3m):
    ann, folder = cc3m
    data = ImageTextDataset(ann, PIPELINE, data_prefix=dict(img=folder))[2]
    inputs, sample = data['inputs'], data['data_samples']
    assert inputs.shape == (1, 3, 4, 32, 32) and inputs.dtype == torch.uint8
    assert all(torch.equal(inputs[0, :, t], inputs[0, :, 0]) for t in range(4))
    assert sample.text == 'a cat' and sample.source == 'image'


def test_absolute_paths_without_prefix(cc3m, tmp_path):
    ann, folder = cc3m
    items = json.load(open(ann))
    ann = _write_json(tmp_path / 'abs.json', [dict(item, image=osp.join(folder, item['image'])) for item in items])
    dataset = ImageTextDataset(ann, PIPELINE)
    assert dataset.get_data_info(1)['filename'] == osp.join(folder, 'b.jpg')
    assert dataset[0]['inputs'].shape == (1, 3, 4, 32, 32)


def test_unreadable_image_is_skipped(cc3m, tmp_path):
    ann, folder = cc3m
    open(osp.join(folder, 'a.jpg'), 'wb').close()  # empty file
    dataset = ImageTextDataset(ann, PIPELINE, data_prefix=dict(img=folder))
    data = dataset[0]
    # another image stands in (drawn at random, possibly the unreadable one again first)
    assert set(data['data_samples'].metainfo['skipped_videos']) == {osp.join(folder, 'a.jpg')}
    assert data['data_samples'].text != 'a dog runs on the beach'


@pytest.mark.parametrize('content, message', [
    ('{"image": "a.jpg", "caption": "x"}', r'a json dict; expected a json list'),
    ('not json', r'not json'),
    ('[]', 'lists no images'),
    ('[{"image": "a.jpg"}]', r'item 0: cannot read'),
    ('[{"image": "a.jpg", "caption": "x"}, {"image": "", "caption": "x"}]', r'item 1: "image" must be a non-empty'),
    ('[{"image": "a.jpg", "caption": []}]', r'item 0: "caption" must be a str or a non-empty list of str'),
    ('[{"image": "a.jpg", "caption": [1]}]', r'item 0: "caption" must be a str'),
])
def test_bad_annotations(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        ImageTextDataset(str(path), PIPELINE)


def test_missing_file_and_bad_arguments(tmp_path, cc3m):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ImageTextDataset(str(tmp_path / 'none.json'), PIPELINE)
    with pytest.raises(ValueError, match='num_shots does not apply'):
        ImageTextDataset(cc3m[0], PIPELINE, num_shots=2)


def test_synthetic_pretrain_files_and_the_video_source(tmp_path):
    """The generator's image-caption list reads as CC3M; its clips read as WebVid, with source='video'."""
    root = make_tiny_synthetic(str(tmp_path / 'synthetic'), per_class=(1, 1, 1), size=32)
    generate_synthetic_images(root, show_progress=False)
    summary = generate_synthetic_pretrain_files(root)
    assert summary['num_images'] == 10 and summary['num_unigrams'] > 10
    captions = json.load(open(osp.join(root, 'synthetic_train_captions.json')))
    items = json.load(open(summary['image_caption_file']))
    assert items[0] == dict(image='train/move_left_0000_08.png', caption=captions['train/move_left_0000.mp4'])
    images = ImageTextDataset(summary['image_caption_file'], PIPELINE, data_prefix=dict(img=osp.join(root, 'images')))
    assert len(images) == 10 and images[0]['data_samples'].text in captions['train/move_left_0000.mp4']
    # the unigram list: "<word> <count>", most frequent first, no articles
    lines = open(summary['unigram_file']).read().splitlines()
    words = [line.split()[0] for line in lines]
    counts = [int(line.split()[1]) for line in lines]
    assert counts == sorted(counts, reverse=True) and not {'a', 'an', 'the', 'to'} & set(words)
    assert make_unigrams(['a red circle', 'the red square']) == ['red 2', 'circle 1', 'square 1']
    # the video side: VideoTextRetrievalDataset gives every pair the source it is told (none by default)
    ann = osp.join(root, 'synthetic_train_captions.json')
    videos = VideoTextRetrievalDataset(ann, [], data_prefix=dict(video=osp.join(root, 'videos')), source='video')
    assert {videos.get_data_info(i)['source'] for i in range(len(videos))} == {'video'}
    assert 'source' not in VideoTextRetrievalDataset(ann, [], data_prefix=dict(video=root)).get_data_info(0)


def test_missing_synthetic_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='generate the synthetic dataset and its images first'):
        generate_synthetic_pretrain_files(str(tmp_path))
