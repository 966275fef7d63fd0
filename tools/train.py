"""Train a model from a config: ``python tools/train.py CONFIG [options]`` (mmaction2's arguments)."""
import argparse
import os
import sys

import torch

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    import videoalign  # noqa: F401
from videoalign.compat import shutdown_distributed
from videoalign.engine import build_runner, default_work_dir, load_config
from videoalign.utils.cli import DictAction
from videoalign.utils.precision import amp_optim_wrapper
from videoalign.utils.process import die_with_parent


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Train a videoalign model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or without a path from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='train and validate under autocast: bf16 on a CPU (mmengine\'s AmpOptimWrapper, made to run there by '
        'videoalign.compat) or a GPU that supports it, else fp16 with a dynamic loss scale')
    parser.add_argument('--no-validate', action='store_true', help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size over auto_scale_lr.base_batch_size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true', help='set different seeds for different ranks')
    parser.add_argument('--deterministic', action='store_true', help='set deterministic options for cuDNN')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. train_dataloader.batch_size=4 '
        'or key="[a,b]" for lists (quotes needed, no white space)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def set_amp(cfg, config: str) -> None:
    """Train (and validate) under autocast: bf16 on a CPU or a GPU that has it, else fp16 with a dynamic loss scale.

    A config that already asks for ``AmpOptimWrapper`` keeps its own dtype and loss scale.
    """
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    cfg.optim_wrapper = amp_optim_wrapper(cfg.optim_wrapper, device, config)
    if cfg.get('val_cfg'):
        cfg.val_cfg.fp16 = True


def merge_args(cfg, args: argparse.Namespace):
    """Apply the command-line options to the config (mmaction2's rules)."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    if args.amp:
        set_amp(cfg, args.config)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not os.path.isfile(args.resume):
            raise FileNotFoundError(f'--resume {args.resume}: no such checkpoint file')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError(f'--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) in {args.config}')
        cfg.auto_scale_lr.enable = True
    if cfg.get('randomness') is None or args.seed is not None:
        cfg.randomness = dict(seed=args.seed, diff_rank_seed=args.diff_rank_seed, deterministic=args.deterministic)
    return cfg


def main() -> None:
    args = parse_args()
    if args.launcher != 'none':
        die_with_parent()  # a rank ends with its launcher instead of training on as an orphan
    cfg = merge_args(load_config(args.config, args.cfg_options), args)
    runner = build_runner(cfg, args.launcher)
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
