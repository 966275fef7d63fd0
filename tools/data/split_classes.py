"""Split the classes of a dataset into seen and unseen halves for zero-shot training and testing.

    python tools/data/split_classes.py data/hmdb51/hmdb51_classes.txt \
        data/hmdb51/hmdb51_train_split_1_videos.txt data/hmdb51/hmdb51_val_split_1_videos.txt \
        --out-dir data/hmdb51/zeroshot_split_0 --seed 0

writes into ``--out-dir``:

- ``seen_classes.txt`` and ``unseen_classes.txt``: label maps (one class name per line, in the original order);
- for each annotation file ``<stem>.txt``: ``<stem>_seen.txt`` and ``<stem>_unseen.txt``, its ``<path> <label>`` lines
  of the seen (unseen) classes, relabelled to the line numbers of the seen (unseen) label map.

A zero-shot model trains on the ``_seen`` lists with the seen class names and is tested on an ``_unseen`` list with
the unseen class names (configs/efficient_prompt/*zeroshot*). The seen classes are ``--num-seen`` classes drawn with
``--seed`` (by default half of them, rounded up); the same label map, number and seed give the same split.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Sequence, Tuple

import numpy as np

try:
    import videoalign  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != 'videoalign':
        raise
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from videoalign.datasets.class_names import load_class_names  # noqa: E402


def split_classes(num_classes: int, num_seen: int, seed: int) -> Tuple[List[int], List[int]]:
    """Draw ``num_seen`` of ``num_classes`` class ids; return the seen and the unseen ids, each sorted."""
    if not 0 < num_seen < num_classes:
        raise ValueError(f'--num-seen must be between 1 and {num_classes - 1} for {num_classes} classes, '
                         f'got {num_seen}')
    seen = sorted(np.random.default_rng(seed).choice(num_classes, num_seen, replace=False).tolist())
    return seen, sorted(set(range(num_classes)) - set(seen))


def relabel(ann_file: str, class_ids: Sequence[int], num_classes: int) -> List[str]:
    """The ``<path> <label>`` lines of ``ann_file`` whose label is in ``class_ids``, relabelled to its position."""
    new_label = {old: new for new, old in enumerate(class_ids)}
    lines = []
    with open(ann_file, encoding='utf-8-sig') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                raise ValueError(f'{ann_file}:{lineno}: expected "<path> <label>", got {line.strip()!r}')
            label = int(fields[1])
            if not 0 <= label < num_classes:
                raise ValueError(f'{ann_file}:{lineno}: label {label} is not in 0..{num_classes - 1} (the label map '
                                 f'has {num_classes} classes)')
            if label in new_label:
                lines.append(f'{fields[0]} {new_label[label]}')
    return lines


def write_lines(path: str, lines: Sequence[str]) -> None:
    """Write ``lines``, one per line."""
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Split the classes of a dataset into seen and unseen halves')
    parser.add_argument('label_map', help='class names, one per line (or an "id,name" CSV)')
    parser.add_argument('ann_files', nargs='+', help='"<path> <label>" annotation files to split')
    parser.add_argument('--out-dir', required=True, help='where to write the label maps and annotation files')
    parser.add_argument(
        '--num-seen',
        type=int,
        default=None,
        help='number of seen (training) classes (default: half of them, rounded up)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw (default: %(default)s)')
    args = parser.parse_args(argv)

    names = load_class_names(args.label_map)
    num_seen = args.num_seen if args.num_seen is not None else len(names) - len(names) // 2
    seen, unseen = split_classes(len(names), num_seen, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    write_lines(osp.join(args.out_dir, 'seen_classes.txt'), [names[i] for i in seen])
    write_lines(osp.join(args.out_dir, 'unseen_classes.txt'), [names[i] for i in unseen])
    print(f'{len(seen)} seen and {len(unseen)} unseen classes written to {args.out_dir}')
    for ann_file in args.ann_files:
        stem = osp.splitext(osp.basename(ann_file))[0]
        for part, class_ids in (('seen', seen), ('unseen', unseen)):
            lines = relabel(ann_file, class_ids, len(names))
            out = osp.join(args.out_dir, f'{stem}_{part}.txt')
            write_lines(out, lines)
            print(f'{out}: {len(lines)} videos')


if __name__ == '__main__':
    main()
