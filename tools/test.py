"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]`` (mmaction2's arguments)."""
import argparse
import json
import os
import sys

from mmengine.dist import is_main_process

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    import videoalign  # noqa: F401
from videoalign.compat import shutdown_distributed
from videoalign.engine import build_runner, default_work_dir, load_config
from videoalign.utils.cli import DictAction
from videoalign.utils.fileio import check_writable
from videoalign.utils.process import die_with_parent


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a videoalign model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--work-dir', help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--dump', type=str, help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint whose keys do not all fit the model (by default missing or unexpected keys are an '
        'error)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. test_dataloader.batch_size=4')
    parser.add_argument(
        '--amp', action='store_true', help='test under autocast (bf16 on a CPU or a GPU that supports it, else fp16)')
    parser.add_argument(
        '--show-dir',
        help='directory where each sample is written as a video (<name>.mp4) with its label and top predictions')
    parser.add_argument('--show', action='store_true', help='show the visualised samples in a window')
    parser.add_argument('--interval', type=int, default=1, help='visualise every n-th sample')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each shown sample stays')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args: argparse.Namespace):
    """Apply the command-line options to the config (mmaction2's rules)."""
    if args.show or args.show_dir is not None:
        # mmaction2's configs declare the hook (disabled); videoalign's Runner builds VideoVisualizationHook for it
        default_hooks = cfg.setdefault('default_hooks', {})
        if default_hooks.get('visualization') is None:
            default_hooks['visualization'] = dict(type='VisualizationHook')
        cfg.default_hooks.visualization.update(
            enable=True, show=args.show, wait_time=args.wait_time, out_dir=args.show_dir, interval=args.interval)
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump {args.dump}: the dump file must end with .pkl or .pickle')
        dump = check_writable(args.dump, '--dump')  # before the test runs, not after
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator = list(evaluators) + [dict(type='AtomicDumpResults', out_file_path=dump)]
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or dict(type='TestLoop'), fp16=True)
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    if '://' not in args.checkpoint and not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    return cfg


def main() -> None:
    args = parse_args()
    if args.launcher != 'none':
        die_with_parent()  # a rank ends with its launcher instead of running on as an orphan
    cfg = merge_args(load_config(args.config, args.cfg_options), args)
    runner = build_runner(cfg, args.launcher)
    runner.load_strict = not args.non_strict
    metrics = runner.test()
    if is_main_process():
        print('test metrics: ' + json.dumps({k: round(float(v), 4) for k, v in metrics.items()}), flush=True)
    shutdown_distributed()


if __name__ == '__main__':
    main()
