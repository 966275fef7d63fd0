"""Accuracy of fused prediction dumps: ``python tools/analysis/report_accuracy.py --preds A.pkl [B.pkl ...]``.

Usage::

    # one dump: its top-1, top-5 and mean class accuracy
    python tools/analysis/report_accuracy.py --preds preds.pkl
    # two models (or views, or modalities) of the same test set, scores weighted 1 : 0.5 after a softmax
    python tools/analysis/report_accuracy.py --preds rgb.pkl flow.pkl --coefficients 1 0.5 --apply-softmax

mmaction2's arguments. The fused score of a sample is ``sum_i coefficient_i * score_i`` over the dumps (each a
``tools/test.py --dump`` file of the same test set, in the same order); the labels must agree. Stand-ins for
unreadable videos (``skipped_videos``) in any dump are left out of all; bf16 scores are read as float32. The fusion
and the accuracies are :mod:`videoalign.analysis.dumps`'s.
"""
import argparse
import os
import sys
from typing import Dict, List, Optional

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.dumps import fuse_predictions, load_predictions, mean_class_accuracy, top_k_accuracy


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Fuse the scores of several dumps and report their accuracy')
    parser.add_argument('--preds', nargs='+', required=True, help='dumps of tools/test.py --dump')
    parser.add_argument('--coefficients', nargs='+', type=float, help='one weight per dump (default: all 1)')
    parser.add_argument('--apply-softmax', action='store_true', help='softmax each dump\'s scores before fusing')
    parser.add_argument('--topk', nargs='+', type=int, default=[1, 5], help='the k of top-k accuracy (default: 1 5)')
    parser.add_argument('--score-key', help='the item of a dict pred_score (a multi-modality model) to use')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    if args.coefficients is not None and len(args.coefficients) != len(args.preds):
        raise ValueError(f'--coefficients has {len(args.coefficients)} values for {len(args.preds)} --preds; give '
                         f'one per dump')
    preds = [load_predictions(path, args.score_key) for path in args.preds]
    for p in preds:
        if p.skipped:
            print(f'{p.path}: {len(p.skipped)} unreadable video(s) left out: {", ".join(p.skipped)}')
    scores, labels = fuse_predictions(preds, args.coefficients, args.apply_softmax)
    coefficients = args.coefficients or [1.0] * len(preds)
    if len(preds) > 1:
        print('fused: ' + ' + '.join(f'{c:g} * {p.path}' for c, p in zip(coefficients, preds)) +
              (' (after a softmax)' if args.apply_softmax else ''))
    print(f'{len(labels)} samples, {scores.shape[1]} classes')
    results = {'mean_class_accuracy': mean_class_accuracy(scores, labels)}
    for k, accuracy in top_k_accuracy(scores, labels, args.topk).items():
        results[f'top{k}_accuracy'] = accuracy
    print(f'Mean Class Accuracy: {results["mean_class_accuracy"]:.4f}')
    for k in args.topk:
        if f'top{k}_accuracy' in results:
            print(f'Top {k} Accuracy: {results[f"top{k}_accuracy"]:.4f}')
        else:
            print(f'Top {k} Accuracy: n/a (only {scores.shape[1]} classes)')
    return results


if __name__ == '__main__':
    main()
