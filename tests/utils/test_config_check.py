"""Tests of the checks that catch misspelt config keys and ``--cfg-options``."""
import pytest
from mmengine.config import Config

from videoalign.testing import R3D_CONFIG, run_tool
from videoalign.utils import check_cfg_options, check_config_keys


def _config(**kwargs) -> Config:
    base = dict(
        model=dict(type='Recognizer3D', backbone=dict(type='ResNet3d', depth=18)),
        train_dataloader=dict(batch_size=2),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)))
    base.update(kwargs)
    return Config(base)


def _message(excinfo) -> str:
    return excinfo.value.args[0]


def test_misspelt_top_level_key_raises_with_suggestion():
    with pytest.raises(KeyError) as excinfo:
        check_config_keys(_config(train_dataloder=dict(batch_size=4)))
    message = _message(excinfo)
    assert "'train_dataloder'" in message
    assert "did you mean 'train_dataloader'" in message


def test_misspelt_key_in_config_file_names_the_file(tmp_path):
    path = tmp_path / 'bad_cfg.py'
    path.write_text("model = dict(type='X')\noptim_wraper = dict(optimizer=dict(type='SGD', lr=0.1))\n")
    with pytest.raises(KeyError) as excinfo:
        check_config_keys(Config.fromfile(str(path)))
    assert str(path) in _message(excinfo)
    assert "did you mean 'optim_wrapper'" in _message(excinfo)


def test_helper_variables_pass():
    cfg = _config(
        data_root='data/k400',
        train_pipeline=[dict(type='DecordInit')],
        dataset_type='VideoDataset',
        ann_file_train='a.txt',
        num_classes=400,
        max_epochs=3,
        file_client_args=dict(io_backend='disk'))
    assert check_config_keys(cfg) is None


def test_extra_keys_are_accepted():
    cfg = _config(train_dataloders=dict())
    with pytest.raises(KeyError):
        check_config_keys(cfg)
    assert check_config_keys(cfg, extra_keys=['train_dataloders']) is None


def test_quickstart_config_passes():
    assert check_config_keys(Config.fromfile(R3D_CONFIG)) is None


def test_misspelt_cfg_option_raises_with_suggestion():
    with pytest.raises(KeyError) as excinfo:
        check_cfg_options(_config(), {'optim_wraper.optimizer.lr': 1})
    message = _message(excinfo)
    assert 'optim_wraper.optimizer.lr' in message
    assert "'optim_wrapper'" in message
    assert 'did you mean' in message


def test_unrelated_cfg_option_raises_without_suggestion():
    with pytest.raises(KeyError) as excinfo:
        check_cfg_options(_config(), {'zzqx.a': 1})
    assert "no key 'zzqx'" in _message(excinfo)
    assert 'did you mean' not in _message(excinfo)


def test_valid_cfg_options_pass():
    cfg = _config(data_root='data')
    options = {
        'model.backbone.depth': 50,
        'randomness.seed': 3,
        'data_root': 'elsewhere',
        'train_dataloader.batch_size': 8,
        'default_hooks.logger.interval': 1,
        'auto_scale_lr.enable': True
    }
    assert 'randomness' not in cfg and 'default_hooks' not in cfg
    assert check_cfg_options(cfg, options) is None
    assert check_cfg_options(cfg, None) is None
    assert check_cfg_options(cfg, {}) is None


def test_train_tool_rejects_misspelt_cfg_option_before_training(tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_tool([
        'python', 'tools/train.py', R3D_CONFIG, '--work-dir',
        str(work_dir), '--cfg-options', 'optim_wraper.optimizer.lr=1'
    ],
                    check=False,
                    timeout=120)
    assert proc.returncode != 0
    assert 'optim_wraper.optimizer.lr' in proc.stderr
    assert 'KeyError' in proc.stderr
    assert "'optim_wrapper'" in proc.stderr
    assert not work_dir.exists()  # failed before the Runner was built


def test_mmcv1_keys_in_a_config_file_name_their_replacement(tmp_path):
    path = tmp_path / 'old_style.py'
    path.write_text(f"_base_ = [{R3D_CONFIG!r}]\nresume_from = 'work_dirs/x/epoch_3.pth'\n")
    with pytest.raises(
            KeyError,
            match=r"old_style\.py: 'resume_from' is an mmcv 1.x config key, which mmengine "
            r"ignores; use resume=True with load_from"):
        check_config_keys(Config.fromfile(str(path)))
    with pytest.raises(KeyError, match=r"--cfg-options total_epochs: .* use train_cfg.max_epochs"):
        check_cfg_options(Config.fromfile(R3D_CONFIG), {'total_epochs': 3})


def test_cfg_option_without_value_is_a_usage_error():
    proc = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--cfg-options', 'train_cfg.max_epochs'], check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert '--cfg-options train_cfg.max_epochs: expected KEY=VALUE' in proc.stderr
