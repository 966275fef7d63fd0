"""Tests of videoalign's VideoDataset: checked annotation parsing and skipping of unreadable videos."""
import logging
import os.path as osp
import shutil

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from videoalign.datasets.video_dataset import VideoDataset, video_is_readable
from videoalign.registry import DATASETS
from videoalign.utils import register_all_modules

pytest.importorskip('decord')

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# the evaluation variant: SampleFrames takes the same frames every time
TEST_PIPELINE = [dict(t, test_mode=True) if t['type'] == 'SampleFrames' else t for t in PIPELINE]

GOOD = ['move_left_0000.mp4', 'move_right_0000.mp4', 'move_up_0000.mp4', 'move_down_0000.mp4']


def _write(path, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


def _parse(tmp_path, text: str, **kwargs) -> VideoDataset:
    ann = _write(tmp_path / 'ann.txt', text)
    return VideoDataset(ann_file=ann, pipeline=[], **kwargs)


def _infos(dataset) -> list:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


# ---------------------------------------------------------------- parsing


def test_valid_list_joins_data_prefix_and_reads_labels(tmp_path):
    dataset = _parse(tmp_path, 'a.mp4 0\n\nsub/b.mp4 3\n  \nc.mp4 12\n', data_prefix=dict(video='/data/root'))
    infos = _infos(dataset)
    assert [i['filename'] for i in infos] == ['/data/root/a.mp4', '/data/root/sub/b.mp4', '/data/root/c.mp4']
    assert [i['label'] for i in infos] == [0, 3, 12]


def test_path_only_line_gets_label_minus_one_and_no_prefix_keeps_path(tmp_path):
    dataset = _parse(tmp_path, 'x/a.mp4\nx/b.mp4 2\n')
    assert [(i['filename'], i['label']) for i in _infos(dataset)] == [('x/a.mp4', -1), ('x/b.mp4', 2)]


def test_custom_delimiter(tmp_path):
    dataset = _parse(tmp_path, 'a b.mp4,4\n', delimiter=',', data_prefix=dict(video='root'))
    assert [(i['filename'], i['label']) for i in _infos(dataset)] == [('root/a b.mp4', 4)]


def test_tiny_synthetic_train_list(tiny_synthetic):
    videos = osp.join(tiny_synthetic, 'videos')
    dataset = VideoDataset(
        ann_file=osp.join(tiny_synthetic, 'synthetic_train_list_videos.txt'),
        pipeline=[],
        data_prefix=dict(video=videos))
    infos = _infos(dataset)
    assert len(infos) == 30
    assert infos[0]['filename'] == osp.join(videos, 'train', 'move_left_0000.mp4')
    assert infos[0]['label'] == 0
    assert sorted({i['label'] for i in infos}) == list(range(10))
    assert all(osp.isfile(i['filename']) for i in infos)


def test_missing_ann_file_names_the_path(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'list.txt')
    with pytest.raises(FileNotFoundError) as excinfo:
        VideoDataset(ann_file=missing, pipeline=[])
    assert missing in str(excinfo.value)


@pytest.mark.parametrize('bad_line', ['b.mp4 notanint', 'b.mp4 1 2', 'b.mp4 1.5'])
def test_malformed_line_names_file_line_and_format(tmp_path, bad_line):
    ann = _write(tmp_path / 'ann.txt', f'a.mp4 0\n{bad_line}\nc.mp4 1\n')
    with pytest.raises(ValueError) as excinfo:
        VideoDataset(ann_file=ann, pipeline=[])
    message = str(excinfo.value)
    assert f'{ann}:2:' in message
    assert repr(bad_line) in message
    assert '"<path> <label>"' in message


def test_malformed_line_number_counts_blank_lines(tmp_path):
    ann = _write(tmp_path / 'ann.txt', 'a.mp4 0\n\n\nb.mp4 x\n')
    with pytest.raises(ValueError, match=':4:'):
        VideoDataset(ann_file=ann, pipeline=[])


@pytest.mark.parametrize('text', ['', '\n\n  \n'])
def test_empty_file_raises(tmp_path, text):
    ann = _write(tmp_path / 'ann.txt', text)
    with pytest.raises(ValueError) as excinfo:
        VideoDataset(ann_file=ann, pipeline=[])
    assert ann in str(excinfo.value)
    assert 'no videos' in str(excinfo.value)


def test_multi_class_lines_parse_into_lists(tmp_path):
    dataset = _parse(tmp_path, 'a.mp4 1 3\nb.mp4 0\nc.mp4 2 3 4\n', multi_class=True, num_classes=5)
    assert dataset.load_data_list() == [
        dict(filename='a.mp4', label=[1, 3], lineno=1),
        dict(filename='b.mp4', label=[0], lineno=2),
        dict(filename='c.mp4', label=[2, 3, 4], lineno=3)
    ]
    # mmaction2's get_data_info turns the list into a one-hot vector of num_classes
    assert [i['label'].tolist() for i in _infos(dataset)] == [[0, 1, 0, 1, 0], [1, 0, 0, 0, 0], [0, 0, 1, 1, 1]]


def test_multi_class_bad_label_names_multi_label_format(tmp_path):
    ann = _write(tmp_path / 'ann.txt', 'a.mp4 1 x\n')
    with pytest.raises(ValueError) as excinfo:
        VideoDataset(ann_file=ann, pipeline=[], multi_class=True, num_classes=5)
    assert f'{ann}:1:' in str(excinfo.value)
    assert '<path> <label> [<label> ...]' in str(excinfo.value)


def test_multi_class_without_num_classes_raises(tmp_path):
    ann = _write(tmp_path / 'ann.txt', 'a.mp4 1 2\n')
    with pytest.raises(ValueError, match='num_classes'):
        VideoDataset(ann_file=ann, pipeline=[], multi_class=True)


# ---------------------------------------------------------------- unreadable videos


@pytest.fixture(scope='module')
def video_dir(tiny_synthetic, tmp_path_factory) -> str:
    """A copy of four good clips, plus a garbage, a truncated and an empty one under ``<root>/train``."""
    root = tmp_path_factory.mktemp('videos')
    src = osp.join(tiny_synthetic, 'videos', 'train')
    (root / 'train').mkdir()
    for name in GOOD:
        shutil.copy(osp.join(src, name), root / 'train' / name)
    shutil.copy(osp.join(src, 'grow_0000.mp4'), root / 'train' / 'garbage.mp4')
    (root / 'train' / 'garbage.mp4').write_bytes(b'\x00not a video\xff' * 64)
    data = open(osp.join(src, 'shrink_0000.mp4'), 'rb').read()
    (root / 'train' / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    (root / 'train' / 'empty.mp4').write_bytes(b'')
    register_all_modules(init_default_scope=False)
    return str(root)


def _build(video_dir: str, names: list, **kwargs):
    """A VideoDataset (built through the registry) over ``names``, labelled 0, 1, 2, ... in order."""
    ann = _write(
        osp.join(video_dir, f'ann_{len(names)}_{abs(hash(tuple(names)))}.txt'),
        ''.join(f'train/{name} {i}\n' for i, name in enumerate(names)))
    cfg = dict(type='VideoDataset', ann_file=ann, data_prefix=dict(video=video_dir), pipeline=PIPELINE)
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('videoalign'):  # whatever scope other tests left behind
        return DATASETS.build(cfg)


class _Messages(logging.Handler):
    """Collects the messages of mmengine's current logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def mm_messages():
    logger = MMLogger.get_current_instance()
    handler = _Messages()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


MIXED = [GOOD[0], 'garbage.mp4', GOOD[1], 'truncated.mp4', GOOD[2], 'missing.mp4']


def _path(video_dir: str, name: str) -> str:
    return osp.join(video_dir, 'train', name)


def test_registry_builds_videoalign_dataset(video_dir):
    dataset = _build(video_dir, GOOD)
    assert type(dataset) is VideoDataset
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 4, 32, 32)
    assert sample['data_samples'].gt_label.tolist() == [0]
    assert 'skipped_videos' not in sample['data_samples'].metainfo


@pytest.mark.parametrize('bad, stand_in', [(1, 2), (3, 4), (5, 0)])
def test_test_mode_returns_next_video_with_record(video_dir, mm_messages, bad, stand_in):
    dataset = _build(video_dir, MIXED, test_mode=True, pipeline=TEST_PIPELINE)
    sample = dataset[bad]
    bad_path = _path(video_dir, MIXED[bad])
    assert sample['data_samples'].metainfo['skipped_videos'] == [bad_path]
    assert sample['data_samples'].gt_label.tolist() == [stand_in]
    expected = dataset[stand_in]
    assert 'skipped_videos' not in expected['data_samples'].metainfo
    assert torch.equal(sample['inputs'], expected['inputs'])
    assert any('skipping unreadable video' in m and bad_path in m for m in mm_messages)


def test_test_mode_records_consecutive_unreadable_videos(video_dir):
    names = [GOOD[0], 'garbage.mp4', 'empty.mp4', 'truncated.mp4', GOOD[1]]
    dataset = _build(video_dir, names, test_mode=True)
    sample = dataset[1]
    assert sample['data_samples'].gt_label.tolist() == [4]
    assert sample['data_samples'].metainfo['skipped_videos'] == [_path(video_dir, n) for n in names[1:4]]


def test_training_mode_draws_another_sample_with_record(video_dir, mm_messages, monkeypatch):
    dataset = _build(video_dir, MIXED)
    draws = []

    def fake_rand_another():
        draws.append(4)
        return 4

    monkeypatch.setattr(dataset, '_rand_another', fake_rand_another)
    sample = dataset[1]
    garbage = _path(video_dir, 'garbage.mp4')
    assert draws == [4]  # training draws at random instead of walking to idx + 1
    assert sample['data_samples'].gt_label.tolist() == [4]
    assert sample['data_samples'].metainfo['skipped_videos'] == [garbage]
    assert sum(garbage in m for m in mm_messages) == 1


def test_training_mode_chain_of_unreadable_draws(video_dir, monkeypatch):
    dataset = _build(video_dir, MIXED)
    draws = iter([5, 3, 0])
    monkeypatch.setattr(dataset, '_rand_another', lambda: next(draws))
    sample = dataset[1]
    assert sample['data_samples'].gt_label.tolist() == [0]
    assert sample['data_samples'].metainfo['skipped_videos'] == [
        _path(video_dir, n) for n in ('garbage.mp4', 'missing.mp4', 'truncated.mp4')
    ]


def test_training_mode_real_random_stand_in(video_dir):
    names = [GOOD[0], 'garbage.mp4', GOOD[1], GOOD[2], GOOD[3]]
    dataset = _build(video_dir, names)
    garbage = _path(video_dir, 'garbage.mp4')
    for _ in range(5):
        sample = dataset[1]
        skipped = sample['data_samples'].metainfo['skipped_videos']
        assert skipped and set(skipped) == {garbage}
        assert sample['data_samples'].gt_label.item() in (0, 2, 3, 4)


def test_readable_video_with_broken_pipeline_reraises(video_dir, mm_messages):

    def broken(results):
        raise ZeroDivisionError('broken transform')

    dataset = _build(video_dir, MIXED, pipeline=PIPELINE + [broken])
    with pytest.raises(ZeroDivisionError, match='broken transform'):
        dataset[0]
    assert not any('skipping' in m for m in mm_messages)


def test_all_unreadable_raises(video_dir):
    names = ['garbage.mp4', 'truncated.mp4', 'missing.mp4', 'empty.mp4']
    dataset = _build(video_dir, names, max_skips=3)
    with pytest.raises(RuntimeError) as excinfo:
        dataset[0]
    message = str(excinfo.value)
    assert '4 videos in a row' in message and video_dir in message and dataset.ann_file in message
    dataset = _build(video_dir, names, max_skips=3, test_mode=True)
    with pytest.raises(RuntimeError, match=r'none of the 4 videos listed in .* could be read') as excinfo:
        dataset[2]
    assert video_dir in str(excinfo.value)


def test_test_mode_skips_more_than_max_skips(video_dir):
    names = ['garbage.mp4', 'truncated.mp4', 'missing.mp4', 'empty.mp4', GOOD[0]]
    dataset = _build(video_dir, names, max_skips=1, test_mode=True)
    sample = dataset[0]
    assert sample['data_samples'].metainfo['skipped_videos'] == [_path(video_dir, n) for n in names[:4]]
    assert dataset[3]['data_samples'].metainfo['skipped_videos'] == [_path(video_dir, 'empty.mp4')]


def test_max_skips_zero_fails_on_first_unreadable(video_dir):
    dataset = _build(video_dir, MIXED, max_skips=0)
    assert dataset[0]['data_samples'].gt_label.tolist() == [0]
    with pytest.raises(RuntimeError, match='1 videos in a row'):
        dataset[1]


# ---------------------------------------------------------------- video_is_readable


def test_video_is_readable(video_dir):
    assert video_is_readable(_path(video_dir, GOOD[0])) is True
    for name in ('garbage.mp4', 'truncated.mp4', 'empty.mp4', 'missing.mp4'):
        assert video_is_readable(_path(video_dir, name)) is False, name
    assert video_is_readable(video_dir) is False  # a folder


def test_wrong_delimiter_is_an_error(tmp_path):
    ann = tmp_path / 'tabs.txt'
    ann.write_text('a.mp4\t0\n')
    with pytest.raises(ValueError, match=r'tabs.txt:1:.*not separated by the delimiter'):
        VideoDataset(str(ann), pipeline=[])


def test_few_shot_subset_is_deterministic(tmp_path):
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'v{i}.mp4 {i % 3}\n' for i in range(30)))
    first = VideoDataset(str(ann), pipeline=[], num_shots=2, shot_seed=5)
    again = VideoDataset(str(ann), pipeline=[], num_shots=2, shot_seed=5)
    other = VideoDataset(str(ann), pipeline=[], num_shots=2, shot_seed=6)
    names = [first.get_data_info(i)['filename'] for i in range(len(first))]
    assert len(first) == 6 and sorted(first.get_data_info(i)['label'] for i in range(6)) == [0, 0, 1, 1, 2, 2]
    assert names == [again.get_data_info(i)['filename'] for i in range(len(again))]
    assert names != [other.get_data_info(i)['filename'] for i in range(len(other))]
    with pytest.raises(ValueError, match='class 0 has 10 videos, fewer than num_shots=11'):
        VideoDataset(str(ann), pipeline=[], num_shots=11)
