import os.path as osp

import pytest

from videoalign.engine import load_config
from videoalign.engine.runner_builder import resolve_config_path
from videoalign.hub.index import INDEX_ROOT

CONFIG = 'configs/quickstart/r3d-tiny-8f_synthetic.py'


def test_relative_config_is_found_among_videoalign_configs_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(CONFIG) == osp.join(INDEX_ROOT, CONFIG)
    cfg = load_config(CONFIG, {'train_cfg.max_epochs': 1})
    assert cfg.train_cfg.max_epochs == 1 and cfg.num_classes == 10


def test_a_local_file_wins_over_the_packaged_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'configs' / 'quickstart').mkdir(parents=True)
    (tmp_path / CONFIG).write_text('num_classes = 3\n')
    assert resolve_config_path(CONFIG) == CONFIG
    assert load_config(CONFIG).num_classes == 3


def test_missing_config_names_both_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
            FileNotFoundError, match=r'config file configs/nope\.py does not exist \(nor .*configs/nope\.py'):
        resolve_config_path('configs/nope.py')
    with pytest.raises(FileNotFoundError, match=r'config file /abs/nope\.py does not exist$'):
        resolve_config_path('/abs/nope.py')
