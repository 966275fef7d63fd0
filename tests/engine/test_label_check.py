"""Labels are checked against the model's classes before a run, with errors naming file:line."""
import os.path as osp
import shutil

import pytest

from videoalign.datasets import VideoDataset
from videoalign.engine.hooks import check_labels
from videoalign.testing import R3D_CONFIG, run_tool, tiny_run_options


def _dataset(tmp_path, lines, **kwargs) -> VideoDataset:
    ann = tmp_path / 'list.txt'
    ann.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return VideoDataset(str(ann), pipeline=[], data_prefix=dict(video=str(tmp_path)), **kwargs)


@pytest.mark.parametrize('bad, line', [(10, 3), (-1, 2)])
def test_out_of_range_label_names_file_and_line(tmp_path, bad, line):
    lines = ['a.mp4 0', 'b.mp4 9', 'c.mp4 3']
    lines[line - 1] = f'x.mp4 {bad}'
    dataset = _dataset(tmp_path, lines)
    with pytest.raises(
            ValueError, match=rf'list\.txt:{line}: label {bad} is not one of the 10 classes \(labels 0 '
            r'to 9\)'):
        check_labels(dataset, 10, 'val')
    check_labels(_dataset(tmp_path, ['a.mp4 0', 'b.mp4 9']), 10, 'val')


def test_multi_label_and_unlabelled_lists(tmp_path):
    with pytest.raises(ValueError, match=r'list\.txt:2: label 5 '):
        check_labels(_dataset(tmp_path, ['a.mp4 0 1', 'b.mp4 2 5'], multi_class=True, num_classes=5), 5, 'train')
    check_labels(_dataset(tmp_path, ['a.mp4', 'b.mp4']), 5, 'test')  # no labels (inference): nothing to check


def test_byte_order_mark_is_not_part_of_the_first_path(tmp_path):
    ann = tmp_path / 'bom.txt'
    ann.write_text('a.mp4 0\nb.mp4 1\n', encoding='utf-8-sig')
    dataset = VideoDataset(str(ann), pipeline=[], data_prefix=dict(video=str(tmp_path)))
    assert dataset.get_data_info(0)['filename'] == osp.join(str(tmp_path), 'a.mp4')


def test_train_tool_refuses_a_val_label_the_model_lacks(tiny_synthetic, tmp_path):
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic, data)
    val_list = osp.join(data, 'synthetic_val_list_videos.txt')
    with open(val_list) as f:
        lines = f.read().splitlines()
    lines[4] = lines[4].rsplit(' ', 1)[0] + ' 12'
    with open(val_list, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    work_dir = tmp_path / 'work'
    proc = run_tool(
        ['python', 'tools/train.py', R3D_CONFIG, '--work-dir',
         str(work_dir)] + tiny_run_options(data, max_epochs=1),
        check=False)
    assert proc.returncode != 0
    assert f'{val_list}:5: label 12 is not one of the 10 classes' in proc.stderr
    assert not list(work_dir.glob('*.pth'))  # refused before any training
