"""Distributed training on machines without CUDA (mmengine 0.10.7 assumes CUDA).

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` before ``init_process_group``, and the Runner always hands
``device_ids=[LOCAL_RANK]`` to its DDP wrapper, which DDP rejects for a CPU module. :func:`setup_distributed`, called
by ``tools/train.py`` and ``tools/test.py`` before the Runner is built, initialises a gloo process group itself (the
Runner then skips its own initialisation) and selects :class:`CPUDistributedDataParallel`. On a CUDA machine it does
nothing and mmengine's own path runs unchanged.
"""
import os
import subprocess
from datetime import timedelta
from typing import Any, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS

WRAPPER_TYPE = 'CPUDistributedDataParallel'


# Registered in mmengine's root registry: the Runner looks the wrapper type up there (``MODEL_WRAPPERS.get``), and
# the root does not search grandchild scopes such as videoalign's. Every scope below the root still finds it.
@MMENGINE_MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` that also accepts a module whose parameters live on the CPU.

    Args:
        module (torch.nn.Module): The model to wrap.
        device_ids (list, optional): Passed to DDP for a CUDA module; dropped for a CPU module, where DDP requires
            None. Defaults to None.
        **kwargs: Other arguments of ``MMDistributedDataParallel``.
    """

    def __init__(self, module: torch.nn.Module, device_ids: Optional[list] = None, **kwargs: Any) -> None:
        on_cpu = all(not p.is_cuda for p in module.parameters())
        super().__init__(module=module, device_ids=None if on_cpu else device_ids, **kwargs)


def _slurm_env() -> None:
    """Set the torch.distributed environment variables from SLURM's, as mmengine's slurm launcher does."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        out = subprocess.getoutput(f'scontrol show hostname {nodes} | head -n1')
        os.environ['MASTER_ADDR'] = out.strip()
    os.environ.setdefault('MASTER_PORT', '29500')


def setup_distributed(cfg: Config, launcher: str) -> bool:
    """Make ``launcher`` work on a machine without CUDA; do nothing where CUDA is available.

    Sets ``cfg.env_cfg.dist_cfg.backend`` to ``'gloo'``, initialises the process group and points
    ``cfg.model_wrapper_cfg`` at :class:`CPUDistributedDataParallel`, keeping any options it had.

    Args:
        cfg (Config): The config the Runner will be built from (changed in place).
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: Whether a CPU process group was set up here.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        _slurm_env()
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} needs CUDA in mmengine; on CPU use --launcher pytorch or slurm')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        timeout = dist_cfg.get('timeout', 1800)
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            timeout=timedelta(seconds=timeout))
    wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(
        broadcast_buffers=False, find_unused_parameters=cfg.get('find_unused_parameters', False))
    if wrapper_cfg.get('type', 'MMDistributedDataParallel') in ('MMDistributedDataParallel',
                                                                'mmengine.MMDistributedDataParallel'):
        wrapper_cfg['type'] = WRAPPER_TYPE
    cfg.model_wrapper_cfg = wrapper_cfg
    return True


def shutdown_distributed() -> None:
    """Wait for all ranks, then destroy the default process group, so that every rank exits cleanly.

    Neither mmengine nor the tools otherwise destroy the process group; left to interpreter exit, gloo's threads can
    abort a rank (``terminate called without an active exception``, SIGABRT) after training has finished, and the
    launcher then reports the whole run as failed. Called by the tools after a successful run; a no-op without a
    process group.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
