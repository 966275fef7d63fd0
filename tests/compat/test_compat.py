"""Each work-around of videoalign.compat, with a check that the defect it handles is real."""
import http.server
import os
import os.path as osp
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

import videoalign  # noqa: F401
from videoalign.compat import CPUDistributedDataParallel, load_checkpoint_safely, setup_distributed
from videoalign.compat.mmaction_packaging import _drn_is_missing
from videoalign.testing.checkpoints import RunsCode


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not _drn_is_missing(), reason='this mmaction2 ships its DRN module')
def test_mmaction_models_imports_only_with_compat():
    plain = _python('import mmaction.models')
    assert plain.returncode != 0 and 'mmaction.models.localizers.drn' in plain.stderr
    fixed = _python('import videoalign, mmaction.models; from mmaction.models import Recognizer3D; print("ok")')
    assert fixed.returncode == 0, fixed.stderr
    stub = _python('import videoalign, mmaction.models\n'
                   'from mmaction.models.localizers.drn.drn import DRN\n'
                   'try:\n    DRN()\nexcept ImportError as e:\n    print(e)')
    assert '2714' in stub.stdout


def test_numpy_aliases():
    assert np.Inf == np.inf and np.isnan(np.NAN)


def _runner_like_checkpoint(path: str) -> dict:
    state = {'w': torch.arange(4.0)}
    torch.save(
        {
            'meta': {
                'epoch': 1
            },
            'state_dict': state,
            'message_hub': {
                'log_scalars': {
                    'loss': HistoryBuffer([1.0, 2.0], [1, 1])
                },
                'np': np.float64(1.5)
            }
        }, path)
    return state


def test_local_scheme_loads_runner_checkpoints(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    state = _runner_like_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)  # the defect: torch >= 2.6 defaults to weights_only=True
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], state['w'])
    assert isinstance(ckpt['message_hub']['log_scalars']['loss'], HistoryBuffer)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """Serve ``tmp_path/www`` on a loopback port; the torch hub cache goes to ``tmp_path/hub``."""
    root = tmp_path / 'www'
    root.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_http_scheme_loads_tensors_only(http_root, tmp_path):
    root, url = http_root
    torch.save({'state_dict': {'w': torch.ones(3)}}, root / 'good.pth')
    ckpt = CheckpointLoader.load_checkpoint(f'{url}/good.pth', map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(3))
    cached = [f for _, _, fs in os.walk(osp.join(torch.hub.get_dir(), 'checkpoints')) for f in fs]
    assert [f for f in cached if f.endswith('.pth')] == ['good.pth']  # under TORCH_HOME, in a folder keyed by the URL

    marker = tmp_path / 'pwned'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'payload': RunsCode(str(marker))}, root / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        CheckpointLoader.load_checkpoint(f'{url}/evil.pth', map_location='cpu')
    assert not marker.exists()
    # the same file loaded as a local, trusted file would run the payload: the http scheme is what protects
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint_safely(str(root / 'evil.pth'))
    assert not marker.exists()


def test_swin_without_pretrained_needs_no_pretrained2d():
    from mmaction.models.backbones import SwinTransformer3D as MMActionSwin

    from videoalign.registry import MODELS
    arch = dict(
        arch=dict(embed_dims=8, depths=[1, 1], num_heads=[1, 1]),
        patch_size=(2, 4, 4),
        window_size=(2, 2, 2),
        out_indices=(1, ),
        pretrained=None)
    with pytest.raises(TypeError):
        MMActionSwin.init_weights.__wrapped__(MMActionSwin(**arch))  # the defect
    model = MODELS.build(dict(type='SwinTransformer3D', **arch))  # mmaction2's class, from videoalign's scope
    assert type(model) is MMActionSwin
    model.init_weights()
    assert model.pretrained2d is False
    out = model(torch.rand(1, 3, 4, 32, 32))
    assert out.shape == (1, 16, 2, 4, 4)


def test_setup_distributed_on_cpu(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip('only meaningful without CUDA')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')), find_unused_parameters=True))
    assert setup_distributed(cfg, 'none') is False and cfg.env_cfg.dist_cfg.backend == 'nccl'
    with pytest.raises(ValueError, match='mpi'):
        setup_distributed(cfg, 'mpi')
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1').items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv('MASTER_PORT', str(29500 + os.getpid() % 1000))
    try:
        assert setup_distributed(cfg, 'pytorch') is True
        assert torch.distributed.is_initialized() and torch.distributed.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(
            type='CPUDistributedDataParallel', broadcast_buffers=False, find_unused_parameters=True)
        # the Runner passes device_ids=[LOCAL_RANK]; plain DDP rejects that for a CPU module
        with pytest.raises(ValueError, match='device_ids'):
            torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        wrapped = CPUDistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        assert wrapped.device_ids is None
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def test_mmcv_lite_warning_is_filtered():
    proc = _python('import videoalign, mmcv.cnn.bricks.transformer')
    assert proc.returncode == 0 and 'MultiScaleDeformableAttention' not in proc.stderr
