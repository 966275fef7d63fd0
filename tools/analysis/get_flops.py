"""FLOPs and parameters of a model: ``python tools/analysis/get_flops.py CONFIG [--shape T H W] [--cfg-options ...]``.

The model is built from the config and one view of the config's test (else val) pipeline runs through it; the
counting and its convention (fvcore's: one multiply-add is one FLOP, elementwise operations are not counted, with
handles for fused attention) are :mod:`videoalign.analysis.flops`'s. Operators left uncounted are printed.
"""
import argparse
import os
import sys
from typing import List, Optional

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.flops import DEFAULT_SHAPE, count_flops, format_report, shape_from_config, view_input_shape
from videoalign.utils.cli import DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Count the FLOPs (per view) and parameters of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('T', 'H', 'W'),
        help='frames, height and width of one view; defaults to the test/val pipeline, else '
        f'{" ".join(map(str, DEFAULT_SHAPE))}')
    parser.add_argument(
        '--stage',
        choices=['backbone', 'neck', 'head'],
        default='head',
        help='count up to this stage of the recognizer')
    parser.add_argument(
        '--no-warmup',
        action='store_true',
        help='also count what the model caches after its first forward pass (class text embeddings)')
    parser.add_argument('--max-depth', type=int, default=3, help='depth of the per-module table')
    parser.add_argument('--no-table', action='store_true', help='print the totals only')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. model.backbone.num_frames=16')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    from videoalign.analysis.benchmark import build_model
    from videoalign.engine import load_config

    cfg = load_config(args.config, args.cfg_options)
    model = build_model(cfg)  # with class names for a text head: its FLOPs depend on their number
    num_frames, height, width = args.shape if args.shape else shape_from_config(cfg)
    result = count_flops(
        model, view_input_shape(model, num_frames, height, width), stage=args.stage, warmup=not args.no_warmup)
    print(format_report(result, args.max_depth, show_table=not args.no_table))
    print('Please check that every operator is counted before using these numbers in a paper.')


if __name__ == '__main__':
    main()
