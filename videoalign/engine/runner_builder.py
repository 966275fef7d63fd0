"""Building an mmengine Runner from a config the way videoalign's tools do."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from ..compat import setup_distributed
from ..hub.index import INDEX_ROOT
from ..registry import RUNNERS
from ..utils.config_check import check_cfg_options, check_config_keys
from .runner import VideoAlignRunner


def resolve_config_path(path: str) -> str:
    """``path`` if it is a file, else the config of that relative path among those that come with videoalign.

    Args:
        path (str): A config file, or a path relative to the repository root (``configs/aim/vit-b16_k400.py``).

    Returns:
        str: The file to read.

    Raises:
        FileNotFoundError: Neither exists.
    """
    if osp.isfile(path):
        return path
    packaged = None if osp.isabs(path) else osp.join(INDEX_ROOT, path)
    if packaged is not None and osp.isfile(packaged):
        return packaged
    where = f' (nor {packaged} among the configs of videoalign)' if packaged else ''
    raise FileNotFoundError(f'config file {path} does not exist{where}')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config, check its keys and those of ``--cfg-options``, then merge the options.

    A relative path that does not exist from the current directory is looked up among the configs that come with
    videoalign (the source tree, or ``videoalign/.mim`` of an installed wheel), so that
    ``configs/quickstart/r3d-tiny-8f_synthetic.py`` works from any directory.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): Parsed ``--cfg-options``. Defaults to None.

    Returns:
        Config: The merged config.
    """
    cfg = Config.fromfile(resolve_config_path(path))
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
