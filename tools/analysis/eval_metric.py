"""Evaluate a prediction dump offline: ``python tools/analysis/eval_metric.py [CONFIG] PKL_RESULTS [options]``.

Usage::

    python tools/test.py CONFIG CHECKPOINT --dump preds.pkl
    # the metrics of the config's test_evaluator (mmaction2's argument order), without running the model again
    python tools/analysis/eval_metric.py CONFIG preds.pkl
    # other settings of the config's metrics
    python tools/analysis/eval_metric.py CONFIG preds.pkl \\
        --cfg-options "test_evaluator.metric_options.top_k_accuracy.topk=(1,3)"
    # registered metrics by name, with their default arguments, no config needed
    python tools/analysis/eval_metric.py preds.pkl --metrics AccMetric

Metrics are built from videoalign's registry (and so mmaction2's and mmengine's), each fed the dump's samples in
chunks of ``--chunk-size``. A ``DumpResults`` entry of the test evaluator is skipped. Stand-ins for unreadable videos
(``skipped_videos``) are left out and listed; bf16 scores are read as float32 (:mod:`videoalign.analysis.dumps`).
"""
import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.dumps import load_dump
from videoalign.datasets.video_dataset import SKIPPED_KEY
from videoalign.utils.cli import DictAction

DUMP_TYPES = ('DumpResults', 'AtomicDumpResults')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Evaluate a tools/test.py --dump file with metrics')
    parser.add_argument(
        'paths',
        nargs='+',
        metavar='[CONFIG] PKL_RESULTS',
        help='the config (optional with '
        '--metrics) and the dump of tools/test.py --dump')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='registered metric types to use instead of the config\'s '
        'test_evaluator, e.g. AccMetric')
    parser.add_argument('--chunk-size', type=int, default=64, help='samples per call of the metrics\' process')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; e.g. test_evaluator.metric_list=top_k_accuracy')
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error(f'expected [CONFIG] PKL_RESULTS, got {len(args.paths)} paths: {" ".join(args.paths)}')
    args.config, args.pkl_results = (args.paths if len(args.paths) == 2 else (None, args.paths[0]))
    if args.config is None and not args.metrics:
        parser.error('give a CONFIG (its test_evaluator is used) or --metrics')
    if args.cfg_options and args.config is None:
        parser.error('--cfg-options needs a CONFIG')
    return args


def metric_cfgs(args: argparse.Namespace) -> List[dict]:
    """The configs of the metrics: ``--metrics``, else the config's ``test_evaluator`` (dump entries left out)."""
    if args.metrics:
        return [dict(type=name) for name in args.metrics]
    from videoalign.engine import load_config
    cfg = load_config(args.config, args.cfg_options)
    evaluator = cfg.get('test_evaluator')
    if not evaluator:
        raise KeyError(f'{args.config} has no test_evaluator; give --metrics')
    if isinstance(evaluator, dict) and 'metrics' in evaluator and 'type' not in evaluator:
        evaluator = evaluator['metrics']  # mmengine's dict(metrics=[...]) form
    evaluator = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    kept = [dict(m) for m in evaluator if m.get('type') not in DUMP_TYPES]
    if not kept:
        raise KeyError(f'{args.config}: the test_evaluator has only {", ".join(DUMP_TYPES)}; give --metrics')
    return kept


def evaluate(samples: Sequence[dict], cfgs: Sequence[dict], chunk_size: int = 64) -> Dict[str, float]:
    """Build the metrics and evaluate the samples with each.

    Args:
        samples (Sequence[dict]): The dump's samples (stand-ins already left out).
        cfgs (Sequence[dict]): The metrics' configs.
        chunk_size (int): Samples per ``process`` call. Defaults to 64.

    Returns:
        dict[str, float]: The metrics of all of them.
    """
    from mmengine.utils import ProgressBar

    from videoalign.registry import METRICS
    from videoalign.utils import register_all_modules

    register_all_modules()
    metrics = []
    for cfg in cfgs:
        try:
            metrics.append(METRICS.build(cfg))
        except KeyError as err:
            raise KeyError(f'metric {cfg.get("type")!r} cannot be built: {err}') from None
    bar = ProgressBar(len(samples))
    for start in range(0, len(samples), chunk_size):
        chunk = list(samples[start:start + chunk_size])
        for metric in metrics:
            metric.process(None, chunk)
        bar.update(len(chunk))
    sys.stdout.write('\n')
    results = {}
    for metric in metrics:
        results.update(metric.evaluate(len(samples)))
    return results


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfgs = metric_cfgs(args)
    samples = load_dump(args.pkl_results)
    kept = [s for s in samples if not s.get(SKIPPED_KEY)]
    skipped = sorted({v for s in samples if s.get(SKIPPED_KEY) for v in s[SKIPPED_KEY]})
    if skipped:
        print(f'{len(skipped)} unreadable video(s) left out ({len(samples) - len(kept)} stand-in samples): '
              f'{", ".join(skipped)}')
    if not kept:
        raise ValueError(f'{args.pkl_results}: no sample to evaluate ({len(samples)} samples in all)')
    print(f'evaluating {len(kept)} samples of {args.pkl_results} with ' + ', '.join(c['type'] for c in cfgs))
    results = evaluate(kept, cfgs, args.chunk_size)
    print('metrics: ' + json.dumps({k: round(float(v), 4) for k, v in results.items()}))
    return results


if __name__ == '__main__':
    main()
