"""Every config under configs/ (outside _base_) loads, passes the key checks and builds its model."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, write_vocab
from videoalign.utils import check_config_keys

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) if '_base_' not in p)
# the steps that draw the frames of a clip, and the argument that says how many
SAMPLERS = dict(
    SampleFrames='clip_len',
    UniformSample='clip_len',
    MultiViewSegmentSample='num_segments',
    RandomStrideSample='clip_len',
    ALPROSampleFrames='num_frames')

_BUILT = {}  # model configs already built, by their text: configs that differ only in data build once


@pytest.fixture(scope='module')
def local_vocab(tmp_path_factory) -> str:
    """A small vocabulary for the configs whose tokenizer reads bert-base-uncased's through the model zoo, or the
    synthetic set's (written by tools/data/synthetic/generate.py)."""
    path = str(tmp_path_factory.mktemp('vocab') / 'vocab.txt')
    write_vocab(path, ['a video of a person'])
    return path


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_builds(path, local_vocab):
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    if 'vocab' in cfg.model.get('tokenizer', {}) and not osp.exists(cfg.model.tokenizer.vocab):
        cfg.model.tokenizer.vocab = local_vocab  # built offline; the model's shapes do not depend on the file
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
        for part in ('backbone', 'neck', 'visual_encoder') if 'num_frames' in cfg.model.get(part, {})
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
