"""End to end: BEVT's video and image pipelines on synthetic data -> pseudo_collate -> BEVTDataPreprocessor."""
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from videoalign.datasets.synthetic import generate_synthetic_dataset, generate_synthetic_images
from videoalign.registry import DATASETS, MODELS
from videoalign.utils import register_all_modules

pytest.importorskip('decord')

SIZE, SECOND, GRID = 64, 32, 4  # crops of 64 px, tokenizer copies of 32 px, 16 px mask cells
MASK = dict(input_size=GRID, num_masking_patches=8, min_num_patches=2)
KEYS = ('imgs', 'imgs_second', 'mask', 'target_mask')

# the official video pipeline, at tiny sizes: 2 clips of 4 frames per video
VIDEO_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=1, num_clips=2),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(SECOND, SECOND), interpolation='lanczos', input_format='NCTHW'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', **MASK, masked_tube_range=(0.5, 1.0), temporal_scale=2),
    dict(type='PackActionInputs', collect_keys=KEYS),
]
IMAGE_PIPELINE = [
    dict(type='ImageDecode'),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=False),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(SECOND, SECOND), interpolation='lanczos', input_format='NCHW'),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='mmpretrain.BEiTMaskGenerator', **MASK),
    dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask')),
]


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> dict:
    out_dir = str(tmp_path_factory.mktemp('bevt') / 'synthetic')
    videos = generate_synthetic_dataset(
        out_dir,
        num_train_per_class=1,
        num_val_per_class=1,
        num_test_per_class=1,
        num_frames=8,
        size=32,
        show_progress=False)
    images = generate_synthetic_images(out_dir, show_progress=False)
    return dict(videos=videos, images=images)


def test_video_and_image_batches_reach_the_model_contract(synthetic):
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('videoalign'):
        video_set = DATASETS.build(
            dict(
                type='VideoDataset',
                ann_file=synthetic['videos']['ann_files']['train'],
                data_prefix=dict(video=synthetic['videos']['video_root']),
                pipeline=VIDEO_PIPELINE))
        image_set = DATASETS.build(
            dict(
                type='ImageListDataset',
                ann_file=synthetic['images']['ann_file'],
                data_prefix=dict(img=synthetic['images']['image_root']),
                pipeline=IMAGE_PIPELINE))
        preprocessor = MODELS.build(dict(type='BEVTDataPreprocessor'))
    assert len(image_set) == 10 and osp.isfile(image_set.get_data_info(0)['img_path'])

    np.random.seed(0)
    video_samples = [video_set[i] for i in (0, 5)]
    image_samples = [image_set[i] for i in (1, 2, 9)]
    sample = video_samples[0]['inputs']
    assert sample['imgs'].shape == (2, 3, 4, SIZE, SIZE) and sample['imgs'].dtype == torch.uint8
    assert sample['imgs_second'].shape == (2, 3, 4, SECOND, SECOND) and sample['imgs_second'].dtype == torch.uint8
    assert sample['mask'].shape == (2, 2, GRID, GRID) and sample['target_mask'].shape == (2, 4, GRID, GRID)
    assert image_samples[0]['inputs']['mask'].shape == (GRID, GRID)
    # the tokenizer's copy is the same augmented (cropped, flipped) frame, resized
    for samples, frame_of in ((video_samples, lambda x: x[1, :, 3]), (image_samples, lambda x: x[0])):
        for s in samples:
            frame = frame_of(s['inputs']['imgs']).permute(1, 2, 0).numpy()
            copy = frame_of(s['inputs']['imgs_second']).permute(1, 2, 0).numpy()
            np.testing.assert_array_equal(copy, mmcv.imresize(frame, (SECOND, SECOND), interpolation='lanczos'))

    video, image = preprocessor((pseudo_collate(video_samples), pseudo_collate(image_samples)), training=True)
    v, i = video['inputs'], image['inputs']
    assert v['imgs'].shape == (4, 3, 4, SIZE, SIZE) and v['imgs'].dtype == torch.float32
    assert v['imgs_second'].shape == (4, 3, 4, SECOND, SECOND)
    assert v['mask'].shape == (4, 2, GRID, GRID) and v['mask'].dtype == torch.bool
    assert v['target_mask'].shape == (4, 4, GRID, GRID) and v['target_mask'].dtype == torch.bool
    assert i['imgs'].shape == (3, 3, SIZE, SIZE) and i['imgs_second'].shape == (3, 3, SECOND, SECOND)
    assert i['mask'].shape == i['target_mask'].shape == (3, GRID, GRID) and i['mask'].dtype == torch.bool
    assert len(video['data_samples']) == 2 and len(image['data_samples']) == 3
    # the masks: exactly 8 patches per masked frame position, the target the tube doubled in time
    assert set(v['mask'].sum((2, 3)).unique().tolist()) <= {0, 8} and (i['mask'].sum((1, 2)) == 8).all()
    assert torch.equal(v['target_mask'], v['mask'].repeat_interleave(2, dim=1))
    # the tokenizer copy is in the DALL-E range and the images are normalised
    for batch in (v, i):
        assert 0.1 <= batch['imgs_second'].min() and batch['imgs_second'].max() <= 0.9
        assert batch['imgs'].min() < -0.5 and batch['imgs'].max() > 0.5
