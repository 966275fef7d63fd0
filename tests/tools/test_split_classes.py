"""tools/data/split_classes.py: disjoint seen / unseen class lists and relabelled annotation files (zero-shot)."""
import importlib.util
import os.path as osp

import pytest

from videoalign.datasets.class_names import load_class_names
from videoalign.testing import REPO_ROOT

_spec = importlib.util.spec_from_file_location('split_classes', osp.join(REPO_ROOT, 'tools', 'data',
                                                                         'split_classes.py'))
split_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(split_tool)

NAMES = [f'class_{i}' for i in range(7)]


def read_ann(path):
    with open(path) as f:
        return [(line.split()[0], int(line.split()[1])) for line in f if line.strip()]


def test_split_classes(tmp_path):
    label_map = tmp_path / 'classes.txt'
    label_map.write_text(''.join(f'{name}\n' for name in NAMES))
    train, val = tmp_path / 'train.txt', tmp_path / 'val.txt'
    train.write_text(''.join(f'{name}/v{j}.avi {i}\n' for i, name in enumerate(NAMES) for j in range(3)))
    val.write_text(''.join(f'{name}/w.avi {i}\n' for i, name in enumerate(NAMES)))
    out = tmp_path / 'split'
    split_tool.main([str(label_map), str(train), str(val), '--out-dir', str(out), '--seed', '3'])

    seen, unseen = load_class_names(str(out / 'seen_classes.txt')), load_class_names(str(out / 'unseen_classes.txt'))
    assert len(seen) == 4 and len(unseen) == 3  # half, rounded up
    assert sorted(seen + unseen) == NAMES and not set(seen) & set(unseen)
    assert seen == [n for n in NAMES if n in seen]  # original order kept
    for stem, per_class in (('train', 3), ('val', 1)):
        for part, names in (('seen', seen), ('unseen', unseen)):
            lines = read_ann(str(out / f'{stem}_{part}.txt'))
            assert len(lines) == per_class * len(names)
            # every video keeps its class: the new label indexes that class in the new label map
            assert all(path.split('/')[0] == names[label] for path, label in lines)

    # the same seed gives the same split; another seed another one
    split_tool.main([str(label_map), str(val), '--out-dir', str(tmp_path / 'again'), '--seed', '3'])
    assert load_class_names(str(tmp_path / 'again' / 'seen_classes.txt')) == seen
    split_tool.main([str(label_map), str(val), '--out-dir', str(tmp_path / 'other'), '--seed', '4', '--num-seen', '2'])
    assert len(load_class_names(str(tmp_path / 'other' / 'seen_classes.txt'))) == 2

    bad = tmp_path / 'bad.txt'
    bad.write_text('a/b.avi 9\n')
    with pytest.raises(ValueError, match='bad.txt:1: label 9 is not in 0..6'):
        split_tool.main([str(label_map), str(bad), '--out-dir', str(out)])
    with pytest.raises(ValueError, match='--num-seen must be between 1 and 6'):
        split_tool.main([str(label_map), str(val), '--out-dir', str(out), '--num-seen', '7'])
