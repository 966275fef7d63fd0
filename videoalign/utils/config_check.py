"""Checks that catch misspelt config keys before the Runner silently ignores them."""
import difflib
from typing import Iterable, Optional

from mmengine.config import Config

#: Top-level keys that mmengine's Runner reads (``Runner.from_cfg``) or that videoalign's tools read.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'data_preprocessor', 'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name', 'cfg', 'model_wrapper_cfg',
    'find_unused_parameters', 'runner_type', 'custom_imports', 'vis_backends', 'strategy', 'compile', 'auto_resume'
})

#: Top-level keys of mmcv 1.x / mmaction2 0.x configs that mmengine ignores without a word, and what replaces them.
MMCV1_KEYS = {
    'resume_from': 'resume=True with load_from=<checkpoint> (or tools/train.py --resume <checkpoint>)',
    'total_epochs': 'train_cfg.max_epochs',
    'runner': 'train_cfg (e.g. dict(type="EpochBasedTrainLoop", max_epochs=...))',
    'workflow': 'train_cfg and val_cfg',
    'evaluation': 'val_cfg, val_evaluator and default_hooks.checkpoint.save_best',
    'optimizer_config': 'optim_wrapper (e.g. clip_grad=dict(max_norm=...))',
    'lr_config': 'param_scheduler',
    'momentum_config': 'param_scheduler',
    'checkpoint_config': 'default_hooks.checkpoint',
    'log_config': 'default_hooks.logger and log_processor',
    'dist_params': 'env_cfg.dist_cfg',
    'gpu_ids': 'the launcher (tools/dist_train.sh CONFIG GPUS)',
}


def _mmcv1_error(key: str, where: str) -> KeyError:
    return KeyError(f'{where}: {key!r} is an mmcv 1.x config key, which mmengine ignores; use '
                    f'{MMCV1_KEYS[key]} instead')


def check_config_keys(cfg: Config, extra_keys: Optional[Iterable[str]] = None) -> None:
    """Raise if a top-level key looks like a misspelt Runner key (``train_dataloder``, ``optim_wraper``) or is an
    mmcv 1.x key that mmengine would ignore (``resume_from``, ``total_epochs``, ... : :data:`MMCV1_KEYS`).

    Other unknown top-level keys are allowed: configs define helper variables (``data_root``, ``train_pipeline``).

    Args:
        cfg (Config): The config.
        extra_keys (Iterable[str], optional): More keys to accept. Defaults to None.

    Raises:
        KeyError: Naming the key, the config file and the key it probably meant (or what replaces it).
    """
    known = RUNNER_KEYS | set(extra_keys or ())
    for key in cfg.keys():
        if key in known:
            continue
        if key in MMCV1_KEYS:
            raise _mmcv1_error(key, f'config {cfg.filename or "<dict>"}')
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
        if close:
            raise KeyError(f'config {cfg.filename or "<dict>"}: unknown key {key!r}; did you mean {close[0]!r}?')


def check_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Raise if a ``--cfg-options`` key starts from a top-level key that neither the config nor the Runner knows.

    Args:
        cfg (Config): The config before the options are merged.
        options (dict, optional): The parsed ``--cfg-options``.

    Raises:
        KeyError: Naming the option and the closest existing keys.
    """
    known = set(cfg.keys()) | RUNNER_KEYS
    for option in options or {}:
        top = option.split('.')[0]
        if top in MMCV1_KEYS:
            raise _mmcv1_error(top, f'--cfg-options {option}')
        if top not in known:
            close = difflib.get_close_matches(top, known, n=3, cutoff=0.6)
            hint = f'; did you mean {", ".join(repr(c) for c in close)}?' if close else ''
            raise KeyError(f'--cfg-options {option}: {cfg.filename or "<dict>"} has no key {top!r}{hint}')
