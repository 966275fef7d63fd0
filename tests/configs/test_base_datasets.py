"""Checks for the dataset base configs in ``configs/_base_/datasets``.

Every config must load with mmengine, reference only transforms that exist in
mmaction2's registry, and its test pipeline must turn a real (tiny) video,
decoded with decord, into the expected number of views of 8 x 224 x 224.
"""
import copy
from pathlib import Path

# Importing only ``mmaction.datasets`` registers the dataset classes and
# transforms without pulling in ``mmaction.models``.
import mmaction.datasets  # noqa: F401
import numpy as np
import pytest
from mmaction.registry import DATASETS, TRANSFORMS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

REPO_ROOT = Path(__file__).resolve().parents[2]
CFG_DIR = REPO_ROOT / 'configs' / '_base_' / 'datasets'

CLIP_LEN = 8
CROP = 224

# file name -> (num_classes, test views = clips x crops)
DATASETS_TABLE = {
    'kinetics400.py': (400, 10 * 3),
    'kinetics600.py': (600, 10 * 3),
    'sthv2.py': (174, 1 * 3),
    'hmdb51.py': (51, 10 * 3),
    'ucf101.py': (101, 10 * 3),
    'diving48.py': (48, 1 * 3),
}
CFG_NAMES = sorted(DATASETS_TABLE)

REQUIRED_VARS = ('dataset_type', 'data_root', 'data_root_val', 'ann_file_train', 'ann_file_val', 'ann_file_test',
                 'file_client_args', 'num_classes', 'train_pipeline', 'val_pipeline', 'test_pipeline',
                 'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator')
PIPELINES = ('train_pipeline', 'val_pipeline', 'test_pipeline')
SPLITS = ('train', 'val', 'test')

_CFG_CACHE = {}


def load(name):
    if name not in _CFG_CACHE:
        _CFG_CACHE[name] = Config.fromfile(str(CFG_DIR / name))
    return _CFG_CACHE[name]


def build_pipeline(pipeline_cfg):
    # Build with mmaction as default scope so mmengine's root TRANSFORMS
    # registry resolves the names in mmaction's child registry; restore the
    # previous scope afterwards so other tests are unaffected.
    with DefaultScope.overwrite_default_scope('mmaction'):
        return Compose(copy.deepcopy(list(pipeline_cfg)))


@pytest.fixture(scope='module')
def tiny_video(tmp_path_factory):
    """A 40-frame 320x240 mp4v video with per-frame varying content."""
    cv2 = pytest.importorskip('cv2')
    pytest.importorskip('decord')
    path = tmp_path_factory.mktemp('videos') / 'tiny.mp4'
    width, height, num_frames = 320, 240, 40
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (width, height))
    assert writer.isOpened(), 'OpenCV could not open an mp4v writer'
    rng = np.random.default_rng(0)
    for i in range(num_frames):
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        cv2.putText(frame, str(i), (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 5)
        writer.write(frame)
    writer.release()
    assert path.stat().st_size > 0
    return str(path)


def video_sample(path, label=0):
    # What VideoDataset.get_data_info hands to the pipeline.
    return dict(filename=path, label=label, start_index=0, modality='RGB')


def test_all_dataset_configs_are_covered():
    on_disk = sorted(p.name for p in CFG_DIR.glob('*.py'))
    assert set(CFG_NAMES) <= set(on_disk), on_disk


@pytest.mark.parametrize('name', CFG_NAMES)
def test_config_structure(name):
    cfg = load(name)
    num_classes, _ = DATASETS_TABLE[name]

    for var in REQUIRED_VARS:
        assert var in cfg, f'{name}: missing top-level `{var}`'
    # Data-only base configs: no model / schedule / runtime / scope.
    for var in ('model', 'default_scope', 'train_cfg', 'optim_wrapper', 'param_scheduler', 'default_hooks'):
        assert var not in cfg, f'{name}: must not define `{var}`'

    assert cfg.num_classes == num_classes
    assert isinstance(cfg.num_classes, int)
    assert cfg.dataset_type == 'VideoDataset'
    assert DATASETS.get(cfg.dataset_type) is not None
    assert cfg.file_client_args == dict(io_backend='disk')

    stem = Path(name).stem
    for split in SPLITS:
        ann_file = cfg[f'ann_file_{split}']
        assert ann_file.endswith('.txt'), ann_file
        assert ann_file.startswith(f'data/{stem}/'), ann_file
    assert cfg.data_root.startswith(f'data/{stem}/')
    assert cfg.data_root_val.startswith(f'data/{stem}/')

    for split in SPLITS:
        loader = cfg[f'{split}_dataloader']
        dataset = loader.dataset
        assert loader.batch_size == 8
        assert loader.num_workers == 4
        assert loader.persistent_workers is True
        assert loader.sampler == dict(type='DefaultSampler', shuffle=split == 'train')
        assert dataset.type == cfg.dataset_type
        assert dataset.ann_file == cfg[f'ann_file_{split}']
        assert dataset.pipeline == cfg[f'{split}_pipeline']
        expected_root = cfg.data_root if split == 'train' else \
            cfg.data_root_val
        assert dataset.data_prefix == dict(video=expected_root)
        if split == 'train':
            assert not dataset.get('test_mode', False)
        else:
            assert dataset.test_mode is True

    assert cfg.val_evaluator == dict(type='AccMetric')
    assert cfg.test_evaluator == cfg.val_evaluator


@pytest.mark.parametrize('name', CFG_NAMES)
def test_pipeline_transforms(name):
    cfg = load(name)
    for key in PIPELINES:
        pipeline = cfg[key]
        types = [t['type'] for t in pipeline]
        for t in types:
            assert TRANSFORMS.get(t) is not None, \
                f'{name}:{key}: {t} is not an mmaction2 transform'
        # decord everywhere, normalisation left to the data_preprocessor.
        assert types[0] == 'DecordInit'
        assert pipeline[0]['io_backend'] == 'disk'
        assert 'DecordDecode' in types
        assert 'Normalize' not in types
        assert types[-1] == 'PackActionInputs'
        formats = [t for t in pipeline if t['type'] == 'FormatShape']
        assert len(formats) == 1 and formats[0]['input_format'] == 'NCTHW'
        samplers = [t for t in pipeline if t['type'] in ('SampleFrames', 'UniformSample')]
        assert len(samplers) == 1
        assert samplers[0]['clip_len'] == CLIP_LEN
        if key == 'train_pipeline':
            assert not samplers[0].get('test_mode', False)
            assert 'Flip' in types
        else:
            assert samplers[0]['test_mode'] is True
            assert 'Flip' not in types


@pytest.mark.parametrize('name', CFG_NAMES)
def test_config_dump_roundtrip(name, tmp_path):
    # The runner dumps the merged config into work_dir; make sure the dump
    # (e.g. the int-keyed SSv2 flip_label_map) loads back unchanged.
    cfg = load(name)
    out = tmp_path / name
    cfg.dump(str(out))
    reloaded = Config.fromfile(str(out))
    for var in REQUIRED_VARS:
        assert reloaded[var] == cfg[var], var


def test_sthv2_flip_swaps_direction_labels(tiny_video):
    cfg = load('sthv2.py')
    flip = [t for t in cfg.train_pipeline if t['type'] == 'Flip'][0]
    label_map = flip['flip_label_map']
    assert label_map == {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}
    assert label_map == cfg.sthv2_flip_label_map

    pipeline = copy.deepcopy(cfg.train_pipeline)
    for t in pipeline:
        if t['type'] == 'Flip':
            t['flip_ratio'] = 1.0
    transform = build_pipeline(pipeline)
    out = transform(video_sample(tiny_video, label=86))
    assert out['data_samples'].gt_label.item() == 87
    out = transform(video_sample(tiny_video, label=5))
    assert out['data_samples'].gt_label.item() == 5


@pytest.mark.parametrize('name', CFG_NAMES)
def test_test_pipeline_on_real_video(name, tiny_video):
    cfg = load(name)
    _, views = DATASETS_TABLE[name]
    out = build_pipeline(cfg.test_pipeline)(video_sample(tiny_video))
    inputs = out['inputs']
    assert tuple(inputs.shape) == (views, 3, CLIP_LEN, CROP, CROP)
    assert out['data_samples'].gt_label.item() == 0


@pytest.mark.parametrize('name', CFG_NAMES)
@pytest.mark.parametrize('key', ['train_pipeline', 'val_pipeline'])
def test_train_val_pipeline_on_real_video(name, key, tiny_video):
    cfg = load(name)
    out = build_pipeline(cfg[key])(video_sample(tiny_video))
    assert tuple(out['inputs'].shape) == (1, 3, CLIP_LEN, CROP, CROP)
