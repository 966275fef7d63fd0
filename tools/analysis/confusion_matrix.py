"""The confusion matrix of a prediction dump: ``python tools/analysis/confusion_matrix.py PKL_RESULTS [options]``.

Usage::

    python tools/test.py CONFIG CHECKPOINT --dump preds.pkl
    # counts, printed when there are at most 20 classes, drawn into cm.png and written to cm.csv
    python tools/analysis/confusion_matrix.py preds.pkl --label-map data/synthetic/label_map.txt \\
        --out cm.png --out-csv cm.csv
    # each row (true class) divided by its total: the recall of each class on the diagonal
    python tools/analysis/confusion_matrix.py preds.pkl --normalize --out cm.png

Row ``i``, column ``j`` is the number of samples of class ``i`` predicted as class ``j`` (``pred_label``, else the
top-scoring class). Stand-ins for unreadable videos (``skipped_videos``) are left out; bf16 scores are read as
float32. The reading and the matrix are :mod:`videoalign.analysis.dumps`'s.
"""
import argparse
import csv
import os
import sys
from typing import List, Optional, Sequence

import numpy as np

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis.dumps import confusion_matrix, load_dump, predictions

PRINT_MAX_CLASSES = 20  # the matrix is printed up to this many classes
VALUES_MAX_CLASSES = 30  # the image shows the values in the cells up to this many classes


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Confusion matrix of a tools/test.py --dump file')
    parser.add_argument('pkl_results', help='the dump of tools/test.py --dump')
    parser.add_argument('--label-map', help='class names: a label map (one per line) or an "id,name" CSV')
    parser.add_argument(
        '--normalize',
        nargs='?',
        const='true',
        choices=['true', 'pred', 'all'],
        help='fractions instead of counts: over each true class (the default with no value), each predicted class, '
        'or all samples')
    parser.add_argument('--out', help='image of the matrix to write (.png, .pdf, .svg)')
    parser.add_argument('--out-csv', help='CSV of the matrix to write (rows: true classes, columns: predictions)')
    parser.add_argument('--score-key', help='the item of a dict pred_score (a multi-modality model) to use')
    parser.add_argument('--cmap', default='viridis', help='matplotlib color map of the image')
    return parser.parse_args(argv)


def _pred_labels(samples: Sequence[dict], kept: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """The ``pred_label`` of each kept sample, else the top-scoring class."""
    labels = []
    for index, top in zip(kept, fallback):
        label = samples[int(index)].get('pred_label')
        labels.append(int(np.asarray(label).reshape(-1)[0]) if label is not None else int(top))
    return np.array(labels, dtype=np.int64)


def format_matrix(matrix: np.ndarray, names: Sequence[str]) -> str:
    """The matrix as a text table, rows the true classes, columns the predictions (numbered)."""
    cells = [[f'{v:.3f}' if matrix.dtype.kind == 'f' else str(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row + [str(len(names) - 1)])
    name_width = max(len(n) for n in list(names) + ['true \\ pred'])
    lines = ['true \\ pred'.ljust(name_width) + ' ' + ' '.join(str(j).rjust(width) for j in range(len(names)))]
    for i, row in enumerate(cells):
        lines.append(f'{names[i]}'.ljust(name_width) + ' ' + ' '.join(c.rjust(width) for c in row))
    return '\n'.join(lines)


def write_csv(path: str, matrix: np.ndarray, names: Sequence[str]) -> None:
    """Write the matrix with a header row and a first column of class names."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['true \\ pred'] + list(names))
        for name, row in zip(names, matrix):
            writer.writerow([name] + [f'{v:.6g}' if matrix.dtype.kind == 'f' else int(v) for v in row])


def plot_matrix(path: str, matrix: np.ndarray, names: Sequence[str], title: str, cmap: str) -> None:
    """Draw the matrix into an image file."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n = len(names)
    size = min(max(6.0, 0.45 * n + 3), 40.0)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap=cmap, interpolation='nearest')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=90)
    ax.set_yticklabels(names)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title)
    if n <= VALUES_MAX_CLASSES:
        threshold = (matrix.max() + matrix.min()) / 2
        for i in range(n):
            for j in range(n):
                text = f'{matrix[i, j]:.2f}' if matrix.dtype.kind == 'f' else str(matrix[i, j])
                ax.text(
                    j,
                    i,
                    text,
                    ha='center',
                    va='center',
                    fontsize=8,
                    color='black' if matrix[i, j] > threshold else 'white')
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    samples = load_dump(args.pkl_results)
    preds = predictions(samples, args.pkl_results, args.score_key)
    num_classes = preds.num_classes
    if args.label_map:
        from videoalign.datasets.class_names import load_class_names
        names = load_class_names(args.label_map)
        if len(names) != num_classes:
            raise ValueError(f'--label-map {args.label_map} has {len(names)} class names; the dump '
                             f'{args.pkl_results} scores {num_classes} classes')
    else:
        names = [str(i) for i in range(num_classes)]
    pred_labels = _pred_labels(samples, preds.indices, preds.pred_labels)
    matrix = confusion_matrix(preds.labels, pred_labels, num_classes, args.normalize)
    if preds.skipped:
        print(f'{len(preds.skipped)} unreadable video(s) left out: {", ".join(preds.skipped)}')
    accuracy = float(np.mean(pred_labels == preds.labels))
    print(f'{len(preds.labels)} samples, {num_classes} classes, accuracy {accuracy:.4f}')
    if num_classes <= PRINT_MAX_CLASSES:
        print(format_matrix(matrix, names))
    else:
        print(f'(the matrix of {num_classes} classes is not printed; see --out / --out-csv)')
    if args.out_csv:
        write_csv(args.out_csv, matrix, names)
        print(f'confusion matrix written to {args.out_csv}')
    if args.out:
        title = 'confusion matrix' + (f' (normalized over {args.normalize})' if args.normalize else '')
        plot_matrix(args.out, matrix, names, title, args.cmap)
        print(f'confusion matrix image written to {args.out}')
    return matrix


if __name__ == '__main__':
    main()
