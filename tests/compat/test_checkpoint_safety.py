"""No way of loading a checkpoint runs pickled code: every entry point refuses a malicious file, names it and the
global, and says how to opt in; Runner checkpoints and trusted files still load."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader, load_checkpoint

import videoalign  # noqa: F401
from videoalign.compat.checkpoint import ENV_TRUSTED, CheckpointReadError, UnsafeCheckpointError, load_checkpoint_safely
from videoalign.models.clip.weights import CLIPPretrainedInit
from videoalign.testing import QUICKSTART_CONFIG, QUICKSTART_TINY_OPTIONS, R3D_CONFIG, run_tool, tiny_run_options
from videoalign.testing.checkpoints import RunsCode


@pytest.fixture
def evil(tmp_path):
    """A checkpoint with a normal layout whose unpickling would create ``marker``."""
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save({
        'meta': {
            'epoch': 1,
            'iter': 1
        },
        'state_dict': {
            'w': torch.zeros(1)
        },
        'hook': RunsCode(str(marker))
    }, str(path))
    return str(path), marker


def _refused(text: str, path: str) -> bool:
    return all(s in text for s in (path, 'posix.system', ENV_TRUSTED, 'not loaded'))


def test_runner_checkpoint_content_loads(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(
        {
            'meta': {
                'epoch': 1,
                'seed': np.int64(3),
                'dataset_meta': {
                    'classes': ('a', 'b')
                }
            },
            'state_dict': {
                'w': torch.arange(3.)
            },
            'message_hub': {
                'log_scalars': {
                    'loss': HistoryBuffer([1.0, 3.0], [1, 1])
                },
                'runtime_info': {
                    'arr': np.arange(3, dtype=np.float32),
                    'f': np.float64(0.5)
                }
            },
            'optimizer': {
                'state': {
                    0: {
                        'momentum_buffer': torch.ones(3)
                    }
                },
                'param_groups': [{
                    'lr': 0.1,
                    'betas': (0.9, 0.99),
                    'params': [0]
                }]
            }
        }, path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['message_hub']['log_scalars']['loss'].mean() == 2.0
    assert ckpt['message_hub']['runtime_info']['arr'].dtype == np.float32 and ckpt['meta']['seed'] == 3


@pytest.mark.parametrize('legacy', [False, True])
def test_mmengine_load_checkpoint_after_import_refuses_code(evil, legacy, tmp_path):
    path, marker = evil
    if legacy:  # torch's pre-1.6 format, whose header records are read by the pickle module too
        torch.save({'x': RunsCode(str(marker))}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(nn.Linear(1, 1), path)
    assert _refused(str(info.value), path) and not marker.exists()
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_safely(path)
    assert not marker.exists()


def test_plain_import_then_mmengine_in_a_new_process(evil):
    path, marker = evil
    code = f'import videoalign, torch\nfrom mmengine.runner import load_checkpoint\n' \
           f'load_checkpoint(torch.nn.Linear(1, 1), {path!r})'
    proc = run_tool([sys.executable, '-c', code], check=False)
    assert proc.returncode != 0 and _refused(proc.stderr, path) and not marker.exists()
    # the documented opt-in for a file the user trusts
    proc = run_tool([sys.executable, '-c', code], env={ENV_TRUSTED: osp.dirname(path)}, check=False)
    assert marker.exists() and 'trusted through' in proc.stdout + proc.stderr


def test_pretrained_and_clip_pretrained_init_refuse_code(evil):
    path, marker = evil
    module = BaseModule(init_cfg=dict(type='Pretrained', checkpoint=path))
    module.layer = nn.Linear(1, 1)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        module.init_weights()
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        CLIPPretrainedInit(checkpoint=path, prefix='')(nn.Linear(1, 1))
    assert not marker.exists()


def test_truncated_checkpoint_error_names_the_file(tmp_path):
    path = str(tmp_path / 'cut.pth')
    torch.save({'state_dict': {'w': torch.zeros(100)}}, path)
    with open(path, 'r+b') as f:
        f.truncate(200)
    with pytest.raises(CheckpointReadError, match=r'cut\.pth \(200 bytes\).*cut short'):
        CheckpointLoader.load_checkpoint(path)


def test_tools_refuse_code(evil, tiny_synthetic, tmp_path):
    path, marker = evil
    data_options = tiny_run_options(tiny_synthetic, max_epochs=1)
    commands = {
        'load_from': ['python', 'tools/train.py', R3D_CONFIG, '--work-dir',
                      str(tmp_path / 'a')] + data_options + [f'load_from={path}'],
        '--resume': ['python', 'tools/train.py', R3D_CONFIG, '--work-dir',
                     str(tmp_path / 'b'), '--resume', path] + data_options,
        'test.py': ['python', 'tools/test.py', R3D_CONFIG, path, '--work-dir',
                    str(tmp_path / 'c')] + data_options,
        'demo': [
            'python', 'demo/demo.py',
            osp.join(tiny_synthetic, 'videos', 'test', 'grow_0000.mp4'), '--config', QUICKSTART_CONFIG, '--checkpoint',
            path, '--labels', 'a', 'b', '--cfg-options'
        ] + QUICKSTART_TINY_OPTIONS,
    }
    for name, command in commands.items():
        proc = run_tool(command, check=False)
        assert proc.returncode != 0 and _refused(proc.stderr, path), (name, proc.stderr[-3000:])
        assert not marker.exists(), name
