"""Building an mmengine Runner from a config the way videoalign's tools do."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from ..compat import setup_distributed
from ..registry import RUNNERS
from ..utils.config_check import check_cfg_options, check_config_keys
from .runner import VideoAlignRunner


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config, check its keys and those of ``--cfg-options``, then merge the options.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): Parsed ``--cfg-options``. Defaults to None.

    Returns:
        Config: The merged config.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    check_cfg_options(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def default_work_dir(cfg: Config, config_path: str, work_dir: Optional[str] = None) -> str:
    """``work_dir`` if given, else the config's, else ``./work_dirs/<config name>`` (mmaction2's rule).

    Args:
        cfg (Config): The config.
        config_path (str): Path of the config file.
        work_dir (str, optional): The ``--work-dir`` argument. Defaults to None.

    Returns:
        str: The work directory.
    """
    if work_dir is not None:
        return work_dir
    return cfg.get('work_dir') or osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def build_runner(cfg: Config, launcher: str = 'none') -> VideoAlignRunner:
    """Build the Runner, first making ``launcher`` work on a machine without CUDA (see ``videoalign.compat``).

    Args:
        cfg (Config): The merged config.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``. Defaults to ``'none'``.

    Returns:
        Runner: A :class:`VideoAlignRunner`, or the registered Runner the config's ``runner_type`` names.
    """
    cfg.launcher = launcher
    setup_distributed(cfg, launcher)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return VideoAlignRunner.from_cfg(cfg)
