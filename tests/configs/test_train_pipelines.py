"""The training pipeline of every config runs many random draws on a synthetic clip and returns what its model takes.

Random transforms fail only for some draws (mmaction2's ``ColorJitter`` under NumPy 2 failed in about 40% of them),
so each distinct pipeline runs :data:`DRAWS` times. Configs that share a pipeline (by its repr) run it once.
"""
import glob
import os.path as osp
import random
from typing import List, Optional, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from videoalign.datasets.synthetic import make_clip, write_video
from videoalign.testing import REPO_ROOT

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) if '_base_' not in p)
DRAWS = 30
CLIP_FRAMES, CLIP_SIZE, FEATURE_DIM = 64, 64, 512
# the steps that draw the frames of a clip, and the argument that says how many
SAMPLERS = dict(
    SampleFrames='clip_len', UniformSample='clip_len', RandomStrideSample='clip_len', ALPROSampleFrames='num_frames')
LABEL = 3
CAPTION = 'a red circle moves to the left'  # for the pipelines of video-text models (PackActionInputs packs it)

_PASSED = set()  # reprs of the pipelines that already passed: configs sharing a pipeline run it once


@pytest.fixture(scope='module')
def clip_path(tmp_path_factory) -> str:
    """A 64-frame 64x64 synthetic mp4, with ``(64, 512)`` frame features beside it for feature pipelines."""
    folder = tmp_path_factory.mktemp('pipeline_clip')
    frames, _, _ = make_clip(0, 'train', LABEL, 0, num_frames=CLIP_FRAMES, size=CLIP_SIZE)
    path = str(folder / 'clip.mp4')
    write_video(path, frames)
    features = np.random.default_rng(0).standard_normal((CLIP_FRAMES, FEATURE_DIM)).astype(np.float32)
    np.save(str(folder / 'clip.npy'), features)  # LoadFrameFeatures reads <video without extension>.npy
    return path


def train_pipeline(cfg: Config) -> Optional[list]:
    """The pipeline the training loader uses: ``train_dataloader.dataset.pipeline``, else ``train_pipeline``.

    Args:
        cfg (Config): A config.

    Returns:
        list | None: The transform configs, or None if the config trains nothing.
    """
    if 'train_dataloader' in cfg and cfg.train_dataloader is None:
        return None  # a test-only config (e.g. zero-shot retrieval)
    pipeline = cfg.get('train_dataloader', {}).get('dataset', {}).get('pipeline')
    return pipeline if pipeline is not None else cfg.get('train_pipeline')


def _pair(size) -> Tuple[int, int]:
    """``(h, w)`` of an int or a ``(w, h)`` pair, as mmaction2's transforms take sizes."""
    return (size, size) if isinstance(size, int) else (size[1], size[0])


def expected_input_shape(pipeline: List[dict]) -> tuple:
    """The shape of ``inputs`` that a pipeline must return, read from its sampler and its last fixed-size transform.

    Args:
        pipeline (list[dict]): Transform configs.

    Returns:
        tuple: ``(num_clips, 3, clip_len, H, W)`` for a video pipeline (``NCTHW``), ``(num_clips, clip_len, D)`` for a
        frame-feature pipeline.
    """
    sampler = next(t for t in pipeline if t['type'] in SAMPLERS)
    clips, clip_len = sampler.get('num_clips', 1), sampler[SAMPLERS[sampler['type']]]
    if any(t['type'] == 'LoadFrameFeatures' for t in pipeline):
        return (clips, clip_len, FEATURE_DIM)
    size = None
    for t in pipeline:
        if t['type'] == 'Resize' and not t.get('keep_ratio', True):
            size = _pair(t['scale'])
        elif t['type'] == 'CenterCrop':
            size = _pair(t['crop_size'])
        elif t['type'] == 'RandomCrop':  # a square of `size` (after a rescale to a larger short side)
            size = _pair(t['size'])
        elif t['type'] in ('Resize', 'RandomResizedCrop', 'MultiScaleCrop'):
            size = None  # the size depends on the video or the draw until a fixed-size transform follows
    assert size is not None, f'no fixed output size in {pipeline}'
    assert any(t['type'] == 'FormatShape' and t['input_format'] == 'NCTHW' for t in pipeline), pipeline
    return (clips, 3, clip_len) + size


def run_draws(pipeline: List[dict], clip_path: str, draws: int = DRAWS) -> None:
    """Run ``pipeline`` ``draws`` times on the clip and check every result.

    Args:
        pipeline (list[dict]): Transform configs.
        clip_path (str): The synthetic clip (its features lie beside it).
        draws (int): How many times. Defaults to :data:`DRAWS`.
    """
    init_default_scope('videoalign')
    transform = Compose(pipeline)
    expected = expected_input_shape(pipeline)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    for draw in range(draws):
        results = transform(dict(filename=clip_path, label=LABEL, text=CAPTION, start_index=0, modality='RGB'))
        assert results is not None, f'draw {draw} returned None'
        inputs = results['inputs']
        if isinstance(inputs, dict):  # PackActionInputs(collect_keys=...): e.g. BEVT's clips, copies and masks
            inputs = inputs['imgs']
        assert tuple(inputs.shape) == expected, f'draw {draw}: {tuple(inputs.shape)} != {expected}'
        assert not inputs.is_floating_point() or torch.isfinite(inputs).all(), f'draw {draw}: non-finite inputs'
        assert results['data_samples'].gt_label.tolist() == [LABEL]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_train_pipeline_runs_many_draws(path, clip_path):
    pipeline = train_pipeline(Config.fromfile(path))
    if pipeline is None:
        pytest.skip('no training pipeline')
    key = repr(pipeline)
    if key not in _PASSED:
        run_draws(pipeline, clip_path)
        _PASSED.add(key)


def test_expected_shapes_are_read_from_the_pipeline():
    video = [
        dict(type='SampleFrames', clip_len=8, num_clips=2),
        dict(type='Resize', scale=(-1, 256)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(224, 112), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW')
    ]
    assert expected_input_shape(video) == (2, 3, 8, 112, 224)
    video[-2] = dict(type='CenterCrop', crop_size=96)
    assert expected_input_shape(video) == (2, 3, 8, 96, 96)
    features = [dict(type='LoadFrameFeatures'), dict(type='RandomStrideSample', clip_len=16, num_clips=1)]
    assert expected_input_shape(features) == (1, 16, FEATURE_DIM)
