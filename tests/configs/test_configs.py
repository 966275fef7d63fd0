"""Every config under configs/ (outside _base_) loads, passes the key checks and builds its model."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) if '_base_' not in p)
# the steps that draw the frames of a clip, and the argument that says how many
SAMPLERS = dict(
    SampleFrames='clip_len',
    UniformSample='clip_len',
    MultiViewSegmentSample='num_segments',
    RandomStrideSample='clip_len')

_BUILT = {}  # model configs already built, by their text: configs that differ only in data build once


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    key = repr(cfg.model.to_dict())
    if key not in _BUILT:
        init_default_scope('videoalign')
        model = MODELS.build(cfg.model)
        _BUILT[key] = sum(p.numel() for p in model.parameters())
        del model
    assert _BUILT[key] > 0


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_frame_count_is_stated_once(path):
    """A config's ``num_frames`` is what its backbone, neck and every sampler of its pipelines use."""
    cfg = Config.fromfile(path)
    counts = {
        f'{part}.num_frames': cfg.model[part].num_frames
        for part in ('backbone', 'neck') if 'num_frames' in cfg.model.get(part, {})
    }
    for split in ('train', 'val', 'test'):
        if cfg.get(f'{split}_dataloader') is None:  # pretraining configs have no val / test
            continue
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step['type'] in SAMPLERS:
                counts[f'{split} {step["type"]}'] = step[SAMPLERS[step['type']]]
    expected = cfg.get('num_frames', next(iter(counts.values())))
    assert set(counts.values()) == {expected}, counts
    with open(path, encoding='utf-8') as f:  # and the number itself is written only in `num_frames = N`
        literal = [
            line for line in f
            if any(f"'{t}'" in line for t in SAMPLERS) and re.search(r'\b(clip_len|num_segments)=\d', line)
        ]
    assert not literal or 'num_frames' not in cfg, literal
