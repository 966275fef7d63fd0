"""Curves and training time from mmengine logs (``<work_dir>/<timestamp>/vis_data/scalars.json``).

Usage::

    # losses against the iteration and top-1 accuracy against the epoch, one panel per key, written as a PNG
    python tools/analysis/analyze_logs.py plot_curve work_dirs/r3d/20261201_120000/vis_data/scalars.json \\
        --keys loss acc/top1 --out curves.png
    # two runs compared (a work dir stands for its newest run)
    python tools/analysis/analyze_logs.py plot_curve work_dirs/run_a work_dirs/run_b --keys loss \\
        --legend run_a run_b --title "loss" --out loss.png
    # seconds per iteration: slowest and fastest epoch, their spread and the mean
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/r3d/20261201_120000/vis_data/scalars.json

mmaction2's arguments. A training key (``loss``, ``lr``, ``time``...) is plotted against the iteration, a validation
metric (``acc/top1``...) against the epoch (``step`` of the validation lines). ``cal_train_time`` leaves out the
first logged value of each epoch unless ``--include-outliers``. The reading is :mod:`videoalign.analysis.logs`'s.
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
from videoalign.analysis.logs import format_train_time, load_scalars, resolve_legend, train_time

# mmaction2's --style takes seaborn's style names; here they map to matplotlib's copies of them
SEABORN_STYLES = ('darkgrid', 'whitegrid', 'dark', 'white', 'ticks')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Analyze mmengine JSON logs (vis_data/scalars.json)')
    sub = parser.add_subparsers(dest='task', required=True, help='plot_curve or cal_train_time')
    plot = sub.add_parser('plot_curve', help='plot keys of the logs against iterations or epochs')
    plot.add_argument(
        'json_logs', nargs='+', help='scalars.json files, run folders <work_dir>/<timestamp> or work dirs')
    plot.add_argument('--keys', nargs='+', default=['loss'], help='the keys to plot (default: loss)')
    plot.add_argument('--title', help='title of the figure')
    plot.add_argument('--legend', nargs='+', help='legend entries: one per log and key, or one per log')
    plot.add_argument('--backend', help='matplotlib backend (default: Agg, which writes files only)')
    plot.add_argument(
        '--style',
        default='dark',
        help='matplotlib style, or one of seaborn\'s style names (default: dark, as mmaction2)')
    plot.add_argument('--out', help='the image to write (.png, .pdf, .svg...); default: show it (needs --backend)')
    time = sub.add_parser('cal_train_time', help='statistics of the logged iteration time')
    time.add_argument(
        'json_logs', nargs='+', help='scalars.json files, run folders <work_dir>/<timestamp> or work dirs')
    time.add_argument(
        '--include-outliers', action='store_true', help='include the first value of every epoch in the statistics')
    return parser.parse_args(argv)


def _use_style(plt, style: str) -> None:
    """Apply ``style``: a matplotlib style, or a seaborn style name mapped to matplotlib's copy."""
    available = set(plt.style.available) | {'default'}
    name = style
    if style in SEABORN_STYLES:
        name = next((s for s in (f'seaborn-v0_8-{style}', f'seaborn-{style}') if s in available), 'default')
    if name not in available:
        raise ValueError(f'--style {style}: not a matplotlib style nor one of {", ".join(SEABORN_STYLES)}; '
                         f'matplotlib has {", ".join(sorted(available))}')
    plt.style.use(name)


def plot_curve(args: argparse.Namespace) -> Optional[str]:
    """Plot each key in its own panel, one line per log; write ``--out`` or show the figure.

    Returns:
        str, optional: The file written.
    """
    import matplotlib
    matplotlib.use(args.backend or 'Agg')
    import matplotlib.pyplot as plt

    if args.out is None and not args.backend:
        raise ValueError('plot_curve: give --out FILE.png (or an interactive --backend such as TkAgg to show it)')
    logs = [load_scalars(path) for path in args.json_logs]
    series = [[log.series(key) for key in args.keys] for log in logs]  # every error before any drawing
    legend = resolve_legend(args.legend, logs, args.keys)
    _use_style(plt, args.style)
    fig, axes = plt.subplots(len(args.keys), 1, figsize=(8, 3.2 * len(args.keys)), squeeze=False)
    for j, key in enumerate(args.keys):
        ax = axes[j][0]
        for i, log in enumerate(logs):
            x, y, x_name = series[i][j]
            print(f'plot curve of {log.path}, key {key}: {len(x)} points')
            ax.plot(x, y, label=legend[i * len(args.keys) + j], linewidth=1, marker='o' if len(x) < 30 else None)
        ax.set_xlabel(x_name)
        ax.set_ylabel(key)
        ax.legend()
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    if args.out is None:
        plt.show()
        return None
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    print(f'save curve to: {args.out}')
    return args.out


def cal_train_time(args: argparse.Namespace) -> None:
    """Print the iteration-time statistics of each log."""
    for path in args.json_logs:
        log = load_scalars(path)
        print(f'-----Analyze train time of {log.path}-----')
        print(format_train_time(train_time(log, args.include_outliers)))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.task == 'plot_curve':
        plot_curve(args)
    else:
        cal_train_time(args)


if __name__ == '__main__':
    main()
