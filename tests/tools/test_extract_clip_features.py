"""tools/data/extract_clip_features.py on a tiny synthetic set, and Efficient-Prompt trained on the cached features.

The reference features are computed here as the official ``feat/visfeat.py`` does (torchvision's ``Resize`` and
``CenterCrop`` on PIL images, ``ToTensor``, CLIP's ``Normalize``, the CLIP image encoder on every frame).
"""
import importlib.util
import logging
import os
import os.path as osp
import re
import uuid

import decord
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from PIL import Image
from torchvision import transforms

from videoalign.models.backbones import CLIPViT
from videoalign.testing import REPO_ROOT, run_tool

TOOL = 'tools/data/extract_clip_features.py'
FEATURE_CONFIG = osp.join(REPO_ROOT, 'configs', 'efficient_prompt', 'vit-b16-16f_hmdb51-features.py')
VIDEO_CONFIG = osp.join(REPO_ROOT, 'configs', 'efficient_prompt', 'vit-b16-16f_hmdb51.py')
# a tiny CLIP image encoder taking 24 x 24 frames, so that the 32 x 32 synthetic frames are resized
ARCH = dict(embed_dim=32, vision=dict(image_size=24, patch_size=8, width=64, layers=2, heads=2))

_spec = importlib.util.spec_from_file_location('extract_clip_features', osp.join(REPO_ROOT, TOOL))
extract_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extract_tool)


def official_transform(size: int) -> transforms.Compose:
    """``feat/visfeat.py`` ``transform_center``."""
    return transforms.Compose([
        transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop((size, size)),
        transforms.ToTensor(),
        transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
    ])


@pytest.fixture(scope='module')
def extracted(tiny_synthetic, tmp_path_factory):
    """Features of the train and val lists written by the tool (one run through the command line)."""
    root = tmp_path_factory.mktemp('features')
    torch.manual_seed(0)
    encoder = CLIPViT(ARCH, num_frames=16)
    encoder.init_weights()
    clip_path = str(root / 'clip.pth')
    torch.save({f'visual.{k}': v for k, v in encoder.state_dict().items()}, clip_path)
    videos = osp.join(tiny_synthetic, 'videos')
    config = str(root / 'extract.py')
    with open(config, 'w') as f:
        f.write(f'''
_base_ = [{VIDEO_CONFIG!r}]
model = dict(backbone=dict(arch={dict(ARCH, _delete_=True)!r},
                           init_cfg=dict(type='CLIPPretrained', checkpoint={clip_path!r},
                                         prefix='visual.')))
train_dataloader = dict(dataset=dict(class_names={tiny_synthetic + '/label_map.txt'!r},
                                     ann_file={tiny_synthetic + '/synthetic_train_list_videos.txt'!r},
                                     data_prefix=dict(video={videos!r})))
val_dataloader = dict(dataset=dict(class_names={tiny_synthetic + '/label_map.txt'!r},
                                   ann_file={tiny_synthetic + '/synthetic_val_list_videos.txt'!r},
                                   data_prefix=dict(video={videos!r})))
test_dataloader = val_dataloader
''')
    out_dir = str(root / 'feats')
    proc = run_tool(['python', TOOL, config, '--out-dir', out_dir, '--batch-size', '5', '--device', 'cpu'])
    return dict(
        root=root, config=config, out_dir=out_dir, encoder=encoder.eval(), stdout=proc.stdout, data=tiny_synthetic)


def listed(data_dir: str, split: str) -> list:
    with open(osp.join(data_dir, f'synthetic_{split}_list_videos.txt')) as f:
        return [line.split()[0] for line in f if line.strip()]


def test_every_frame_of_every_listed_video_is_encoded_as_the_official_extraction(extracted):
    paths = listed(extracted['data'], 'train') + listed(extracted['data'], 'val')
    assert f'{len(paths)} videos, 0 already done' in extracted['stdout']
    for path in paths:
        feats = np.load(osp.join(extracted['out_dir'], osp.splitext(path)[0] + '.npy'))
        assert feats.shape == (16, 32) and feats.dtype == np.float32
    path = paths[7]
    frames = decord.VideoReader(osp.join(extracted['data'], 'videos', path)).get_batch(list(range(16))).asnumpy()
    clip = torch.stack([official_transform(24)(Image.fromarray(frame)) for frame in frames], dim=1)
    with torch.no_grad():
        expected = extracted['encoder'](clip.unsqueeze(0)).frame_embeds[0].numpy()
    feats = np.load(osp.join(extracted['out_dir'], osp.splitext(path)[0] + '.npy'))
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-4)


def test_frame_preprocessing_matches_torchvision_on_non_square_frames():
    rng = np.random.default_rng(0)
    preprocess = extract_tool.FramePreprocessor(24, extract_tool.CLIP_MEAN, extract_tool.CLIP_STD)
    for height, width in ((30, 41), (50, 37)):
        frames = rng.integers(0, 256, (2, height, width, 3), dtype=np.uint8)
        expected = torch.stack([official_transform(24)(Image.fromarray(frame)) for frame in frames], dim=1)
        torch.testing.assert_close(preprocess(frames)[0], expected, rtol=1e-5, atol=1e-5)
    swapped = extract_tool.FramePreprocessor(24, extract_tool.CLIP_MEAN, extract_tool.CLIP_STD, bgr_as_rgb=True)
    assert np.array_equal(swapped.crop(frames[0]), preprocess.crop(frames[0][..., ::-1]))


def test_resume_keeps_existing_files_and_unreadable_videos_are_reported(extracted, tmp_path, capsys):
    out_dir = str(tmp_path / 'feats')
    data = extracted['data']
    good = listed(data, 'val')[:2]
    kept = osp.join(out_dir, osp.splitext(good[0])[0] + '.npy')
    os.makedirs(osp.dirname(kept))
    np.save(kept, np.zeros((3, 32), np.float32))  # "from an interrupted run": must be kept as it is
    broken = tmp_path / 'videos' / 'broken.mp4'
    broken.parent.mkdir()
    broken.write_bytes(b'not a video')
    os.symlink(osp.join(data, 'videos', good[1]), tmp_path / 'videos' / 'good.mp4')
    os.makedirs(osp.dirname(tmp_path / 'videos' / good[0]), exist_ok=True)
    os.symlink(osp.join(data, 'videos', good[0]), tmp_path / 'videos' / good[0])
    ann = tmp_path / 'list.txt'
    ann.write_text(f'{good[0]} 0\nbroken.mp4 1\nmissing.mp4 2\ngood.mp4 3\n')

    extract_tool.main([
        extracted['config'], '--out-dir', out_dir, '--ann-file',
        str(ann), '--video-root',
        str(tmp_path / 'videos'), '--device', 'cpu', '--save-dtype', 'float16', '--amp'
    ])
    captured = capsys.readouterr()
    assert '4 videos, 1 already done; encoding 3' in captured.out
    assert np.array_equal(np.load(kept), np.zeros((3, 32)))
    written = np.load(osp.join(out_dir, 'good.npy'))
    reference = np.load(osp.join(extracted['out_dir'], osp.splitext(good[1])[0] + '.npy'))
    assert written.dtype == np.float16 and np.allclose(written, reference, atol=3e-2)  # bf16 autocast, float16 file
    assert not np.array_equal(written, reference.astype(np.float16))
    assert '2 unreadable videos skipped' in captured.err
    with open(osp.join(out_dir, 'unreadable_videos.txt')) as f:
        report = f.read()
    assert 'broken.mp4' in report and 'missing.mp4' in report
    assert not osp.exists(osp.join(out_dir, 'broken.npy')) and not any(n.endswith('.tmp') for n in os.listdir(out_dir))

    ann.write_text(f'{osp.join(data, "videos", good[0])} 0\n')
    with pytest.raises(ValueError, match='absolute path'):
        extract_tool.main([extracted['config'], '--out-dir', out_dir, '--ann-file', str(ann), '--video-root', '/'])


def test_fp16_is_cuda_only(extracted):
    with pytest.raises(SystemExit, match='--fp16 runs on CUDA only'):
        extract_tool.main([extracted['config'], '--out-dir', 'unused', '--device', 'cpu', '--fp16'])


def test_feature_config_is_refused():
    with pytest.raises(SystemExit, match='not a CLIP image encoder'):
        extract_tool.main([FEATURE_CONFIG, '--out-dir', 'unused', '--device', 'cpu'])


def test_training_on_cached_features(extracted):
    """The feature config (identity backbone, same neck and head) trains and validates on the cached features."""
    data, root = extracted['data'], extracted['root']
    config = str(root / 'train_features.py')
    with open(config, 'w') as f:
        f.write(f'''
_base_ = [{FEATURE_CONFIG!r}]
feature_root = {extracted['out_dir']!r}
model = dict(
    neck=dict(num_frames=8, embed_dims=32, num_heads=2),
    cls_head=dict(in_channels=32, text_encoder=dict(arch='tiny', init_cfg=None), prompt=dict(prefix=2, postfix=2)))
train_pipeline = [dict(type='LoadFrameFeatures'), dict(type='RandomStrideSample', clip_len=8, num_clips=1),
                  dict(type='FrameFeatureDecode'), dict(type='PackActionInputs')]
val_pipeline = [dict(type='LoadFrameFeatures'), dict(type='RandomStrideSample', clip_len=8, num_clips=5),
                dict(type='FrameFeatureDecode'), dict(type='PackActionInputs')]
loader = dict(batch_size=10, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(class_names={data + '/label_map.txt'!r},
                                               ann_file={data + '/synthetic_train_list_videos.txt'!r},
                                               data_prefix=dict(video=feature_root), pipeline=train_pipeline))
val_dataloader = dict(**loader, dataset=dict(class_names={data + '/label_map.txt'!r},
                                             ann_file={data + '/synthetic_val_list_videos.txt'!r},
                                             data_prefix=dict(video=feature_root), pipeline=val_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.003))
train_cfg = dict(max_epochs=4, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
log_processor = dict(window_size=1)
''')
    work_dir = str(root / 'work')
    proc = run_tool(['python', 'tools/train.py', config, '--work-dir', work_dir])
    losses = [float(x) for x in re.findall(r'Epoch\(train\) +\[\d+\]\[\s*\d+/\d+\].* loss: ([0-9.]+)', proc.stdout)]
    assert len(losses) == 12, proc.stdout[-3000:]  # 30 clips / batch 10 = 3 iterations x 4 epochs
    assert sum(losses[-3:]) < sum(losses[:3]), f'loss did not fall: {losses}'
    assert len(re.findall(r'Epoch\(val\) \[\d+\]\[2/2\].*acc/top1: [0-9.]+', proc.stdout)) == 2  # 5 views per video
    # the parameter table of VideoRecognizer: an identity backbone has no row (no CLIP image encoder in memory)
    assert re.search(r'\ncls_head +[0-9,]+ +[0-9,]+', proc.stdout) and not re.search(r'\nbackbone +[0-9,]', proc.stdout)
    assert osp.isfile(osp.join(work_dir, 'epoch_4.pth'))


def test_init_weights_log_only_with_verbose(extracted, tmp_path):
    """mmengine's per-parameter init_weights log (about 130 lines for a CLIP ViT) is shown with --verbose only."""
    assert 'init_weights' not in extracted['stdout'] and 'torch.Size' not in extracted['stdout']

    class Records(logging.Handler):

        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.messages = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    ann = tmp_path / 'list.txt'
    ann.write_text(f'{listed(extracted["data"], "val")[0]} 0\n')
    # a logger without a log file, as in a fresh process (with one, mmengine writes the report to the file instead)
    logger, records = MMLogger.get_instance(f'extract-{uuid.uuid4().hex}', log_level='INFO'), Records()
    assert MMLogger.get_current_instance() is logger
    level = logger.level
    logger.addHandler(records)
    try:
        for flags, out_dir in (([], 'quiet'), (['--verbose'], 'verbose')):
            records.messages.clear()
            extract_tool.main([
                extracted['config'], '--out-dir',
                str(tmp_path / out_dir), '--ann-file',
                str(ann), '--video-root',
                osp.join(extracted['data'], 'videos'), '--device', 'cpu'
            ] + flags)
            init_lines = [m for m in records.messages if 'init_weights' in m]
            assert (len(init_lines) > 10) == bool(flags), (flags, records.messages[:5])
    finally:
        logger.removeHandler(records)
    assert logger.level == level  # the level is back
