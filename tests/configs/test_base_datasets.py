"""Checks for the dataset base configs in ``configs/_base_/datasets``.

Every config loads with mmengine and declares the paths, class names and loaders of its dataset; the pipelines
are the method configs' (``tests/configs/test_train_pipelines.py`` runs them), not the dataset bases'.
"""
from pathlib import Path

# Importing only ``mmaction.datasets`` registers the dataset classes and
# transforms without pulling in ``mmaction.models``.
import mmaction.datasets  # noqa: F401
import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
CFG_DIR = REPO_ROOT / 'configs' / '_base_' / 'datasets'

# file name -> num_classes
DATASETS_TABLE = {
    'kinetics400.py': 400,
    'kinetics600.py': 600,
    'sthv2.py': 174,
    'hmdb51.py': 51,
    'ucf101.py': 101,
    'diving48.py': 48,
}
CFG_NAMES = sorted(DATASETS_TABLE)

REQUIRED_VARS = ('dataset_type', 'data_root', 'data_root_val', 'ann_file_train', 'ann_file_val', 'ann_file_test',
                 'file_client_args', 'num_classes', 'train_dataloader', 'val_dataloader', 'test_dataloader',
                 'val_evaluator', 'test_evaluator')
SPLITS = ('train', 'val', 'test')

_CFG_CACHE = {}


def load(name):
    if name not in _CFG_CACHE:
        _CFG_CACHE[name] = Config.fromfile(str(CFG_DIR / name))
    return _CFG_CACHE[name]


def test_all_dataset_configs_are_covered():
    on_disk = sorted(p.name for p in CFG_DIR.glob('*.py'))
    assert set(CFG_NAMES) <= set(on_disk), on_disk


@pytest.mark.parametrize('name', CFG_NAMES)
def test_config_structure(name):
    cfg = load(name)
    num_classes = DATASETS_TABLE[name]

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
        assert 'pipeline' not in dataset  # every method states its own
        assert dataset.get('class_names') == cfg.get('class_names')
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
def test_config_dump_roundtrip(name, tmp_path):
    # The runner dumps the merged config into work_dir; make sure the dump
    # (e.g. the int-keyed SSv2 flip_label_map) loads back unchanged.
    cfg = load(name)
    out = tmp_path / name
    cfg.dump(str(out))
    reloaded = Config.fromfile(str(out))
    for var in REQUIRED_VARS:
        assert reloaded[var] == cfg[var], var


def test_sthv2_flip_label_map_pairs_the_direction_classes():
    cfg = load('sthv2.py')
    assert cfg.sthv2_flip_label_map == {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}
