"""Every config under configs/ (outside _base_) loads, passes the key checks and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS, PARAM_SCHEDULERS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) if '_base_' not in p)
SCHEDULES = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '_base_', 'schedules', '*.py')))


_BUILT = {}  # model configs already built, by their text: configs that differ only in data build once


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    head = cfg.model.get('cls_head', {})
    if isinstance(head.get('class_names'), str) and not osp.isfile(head.class_names):
        # dataset files are not here: stand-in names, as many as the config declares (num_classes None: any number)
        head.class_names = [f'class {i}' for i in range(head.num_classes or 10)]
    key = repr(cfg.model.to_dict())
    if key not in _BUILT:
        init_default_scope('videoalign')
        model = MODELS.build(cfg.model)
        _BUILT[key] = sum(p.numel() for p in model.parameters())
        del model
    assert _BUILT[key] > 0


@pytest.mark.parametrize('path', SCHEDULES, ids=osp.basename)
def test_schedule_builds(path):
    cfg = Config.fromfile(path)
    init_default_scope('videoalign')
    optim_wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    epochs, epoch_length = cfg.train_cfg.max_epochs, 10
    for scheduler_cfg in cfg.param_scheduler:
        scheduler_cfg = dict(scheduler_cfg)
        scheduler_cls = PARAM_SCHEDULERS.get(scheduler_cfg.pop('type'))
        if scheduler_cfg.pop('convert_to_iter_based', False):
            scheduler = scheduler_cls.build_iter_from_epoch(optim_wrapper, **scheduler_cfg, epoch_length=epoch_length)
            assert scheduler.end <= epochs * epoch_length
        else:
            scheduler = scheduler_cls(optim_wrapper, **scheduler_cfg)
            assert scheduler.end <= epochs
