"""Tests of VideoTextRetrievalDataset: the three annotation formats, pairs and videos, unreadable videos."""
import json
import logging
import os.path as osp

import pytest
import torch
from mmaction.datasets import MSRVTTRetrieval
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from videoalign.datasets import VideoTextRetrievalDataset
from videoalign.datasets.synthetic import generate_synthetic_dataset
from videoalign.datasets.video_dataset import SKIPPED_KEY
from videoalign.registry import DATASETS

pytest.importorskip('decord')

# (video, captions): v1 has three captions, one of them with punctuation and capitals for pre_text
VIDEOS = [('v0.mp4', ['A red circle moves left.']), ('v1.mp4', ['a blue square', 'It GROWS, fast!', 'a square']),
          ('v2.mp4', ['a green arrow turns'])]


def _write(path, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


def _mmaction_json(tmp_path) -> str:
    items = [dict(video=v, caption=c if len(c) > 1 else c[0]) for v, c in VIDEOS]
    return _write(tmp_path / 'ret.json', json.dumps(items))


def _jsonl(tmp_path, order=(0, 1, 2, 1, 1)) -> str:
    """ALPRO's lines: one caption per line, v1's captions interleaved with v2's."""
    seen = {i: 0 for i in range(len(VIDEOS))}
    lines = []
    for i in order:
        name, captions = VIDEOS[i]
        lines.append(json.dumps(dict(clip_name=name[:-len('.mp4')], caption=captions[seen[i]])))
        seen[i] += 1
    return _write(tmp_path / 'ret.jsonl', '\n'.join(lines) + '\n')


def _synthetic_dict(tmp_path) -> str:
    return _write(tmp_path / 'captions.json', json.dumps(dict(VIDEOS)))


def _dataset(ann_file: str, **kwargs) -> VideoTextRetrievalDataset:
    """The dataset of ``ann_file`` without videos (not checked)."""
    return VideoTextRetrievalDataset(ann_file=ann_file, pipeline=[], **dict(dict(check_videos=False), **kwargs))


def _infos(dataset) -> list:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _strip(infos: list) -> list:
    """The fields of the samples that the annotations decide."""
    keys = ('filename', 'text', 'video_id', 'text_id', 'gt_video_id', 'gt_text_id')
    return [{k: info[k] for k in keys if k in info} for info in infos]


@pytest.mark.parametrize('make', [_mmaction_json, _jsonl, _synthetic_dict])
def test_formats_give_videos_in_test_mode(tmp_path, make):
    dataset = _dataset(make(tmp_path), test_mode=True, data_prefix=dict(video='/root'))
    assert _strip(_infos(dataset)) == [
        dict(filename='/root/v0.mp4', text=['A red circle moves left.'], gt_video_id=[0], gt_text_id=[0]),
        dict(
            filename='/root/v1.mp4',
            text=['a blue square', 'It GROWS, fast!', 'a square'],
            gt_video_id=[1, 1, 1],
            gt_text_id=[1, 2, 3]),
        dict(filename='/root/v2.mp4', text=['a green arrow turns'], gt_video_id=[2], gt_text_id=[4]),
    ]
    assert (dataset.num_videos, dataset.num_texts) == (3, 5)
    assert dataset.dropped_videos == []


@pytest.mark.parametrize('make', [_mmaction_json, _jsonl, _synthetic_dict])
def test_formats_give_pairs_in_training(tmp_path, make):
    dataset = _dataset(make(tmp_path))
    pairs = [(i['filename'], i['text'], i['video_id'], i['text_id']) for i in _infos(dataset)]
    assert pairs == [('v0.mp4', 'A red circle moves left.', 0, 0), ('v1.mp4', 'a blue square', 1, 1),
                     ('v1.mp4', 'It GROWS, fast!', 1, 2), ('v1.mp4', 'a square', 1, 3),
                     ('v2.mp4', 'a green arrow turns', 2, 4)]
    assert (dataset.num_videos, dataset.num_texts) == (3, 5)


def test_test_mode_equals_mmaction2_msrvtt_retrieval_with_pre_text(tmp_path):
    ann = _mmaction_json(tmp_path)
    ours = _dataset(ann, test_mode=True, pre_text=True, data_prefix=dict(video='videos'))
    theirs = MSRVTTRetrieval(ann_file=ann, pipeline=[], test_mode=True, data_prefix=dict(video='videos'))
    assert _strip(_infos(ours)) == _strip(_infos(theirs))
    assert ours.get_data_info(1)['text'][1] == 'it grows fast'
    assert (ours.num_videos, ours.num_texts) == (theirs.num_videos, theirs.num_texts)


def test_jsonl_groups_by_first_appearance_and_adds_the_extension(tmp_path):
    ann = _write(
        tmp_path / 'a.jsonl', '\n'.join(
            json.dumps(d) for d in [
                dict(clip_name='b', caption='one'),
                dict(clip_name='a.avi', caption='two'),
                dict(clip_name='b', caption='three'),
            ]) + '\n\n')
    assert [(i['filename'], i['text'])
            for i in _infos(_dataset(ann, test_mode=True, video_ext='.avi'))] == [('b.avi', ['one', 'three']),
                                                                                  ('a.avi', ['two'])]
    assert [i['filename'] for i in _infos(_dataset(ann, test_mode=True))] == ['b.mp4', 'a.avi.mp4']


def test_json_list_items_may_use_clip_name(tmp_path):
    ann = _write(tmp_path / 'a.json', json.dumps([dict(clip_name='c', caption='x'), dict(video='d.avi', caption='y')]))
    assert [i['filename'] for i in _infos(_dataset(ann))] == ['c.mp4', 'd.avi']


def test_one_line_jsonl_is_not_taken_for_a_caption_dict(tmp_path):
    ann = _write(tmp_path / 'one.jsonl', json.dumps(dict(clip_name='x', caption='a video')) + '\n')
    assert _strip(_infos(_dataset(
        ann, test_mode=True))) == [dict(filename='x.mp4', text=['a video'], gt_video_id=[0], gt_text_id=[0])]


def test_paragraph_joins_the_captions_of_a_video(tmp_path):
    dataset = _dataset(_jsonl(tmp_path), test_mode=True, paragraph=True)
    assert [i['text'] for i in _infos(dataset)] == [['A red circle moves left.'],
                                                    ['a blue square It GROWS, fast! a square'], ['a green arrow turns']]
    assert [i['gt_text_id'] for i in _infos(dataset)] == [[0], [1], [2]]
    assert (dataset.num_videos, dataset.num_texts) == (3, 3)
    train = _dataset(_jsonl(tmp_path), paragraph=True, pre_text=True)
    assert [(i['text'], i['text_id']) for i in _infos(train)] == [('a red circle moves left', 0),
                                                                  ('a blue square it grows fast a square', 1),
                                                                  ('a green arrow turns', 2)]


@pytest.mark.parametrize('text, match', [
    ('', 'lists no videos'),
    ('[]', 'lists no videos'),
    ('{"clip_name": "a", "caption": "x"}\nnot json\n', r'ann\.txt:2: cannot parse'),
    ('{"clip_name": "a"}\n', r'ann\.txt:1: cannot read'),
    ('[{"video": "a.mp4"}]', 'item 0: cannot read'),
    ('[{"video": "a.mp4", "caption": ["x", 3]}]', 'item 0: a caption must be'),
    ('[{"video": "", "caption": "x"}]', 'item 0: "video" must be'),
    ('{"a.mp4": []}', "entry 'a.mp4': a caption must be"),
    ('{"clip_name": 7, "caption": "x"}', r'ann\.txt:1: "clip_name" must be'),
    ('"just a string"', r'ann\.txt:1: cannot read'),
    ('a.mp4 0\n', r'ann\.txt:1: cannot parse'),
])
def test_bad_annotations_name_the_file_and_the_formats(tmp_path, text, match):
    ann = _write(tmp_path / 'ann.txt', text)
    with pytest.raises(ValueError, match=match) as info:
        _dataset(ann)
    if 'lists no videos' not in match:
        assert 'clip_name' in str(info.value) and 'json list' in str(info.value)  # the expected formats


def test_missing_file_and_classification_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.json'):
        _dataset(str(tmp_path / 'nothing.json'))
    with pytest.raises(ValueError, match='num_shots'):
        _dataset(_jsonl(tmp_path), num_shots=1)


# ---------------------------------------------------------------- videos

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=4, mode='rand'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=('text', 'text_id', 'gt_video_id', 'gt_text_id')),
]
TEST_PIPELINE = [dict(t, mode='uniform') if t['type'] == 'ALPROSampleFrames' else t for t in PIPELINE]


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> dict:
    """A synthetic dataset of 1 clip per class and split (8 frames of 32x32), plus broken videos in test/."""
    summary = generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('retrieval') / 'data'),
        num_train_per_class=1,
        num_val_per_class=1,
        num_test_per_class=1,
        num_frames=8,
        size=32,
        show_progress=False)
    _write(osp.join(summary['video_root'], 'test', 'garbage.mp4'), 'not a video' * 50)
    return summary


def _build(synthetic: dict, ann_file: str, **kwargs):
    cfg = dict(
        type='VideoTextRetrievalDataset',
        ann_file=ann_file,
        data_prefix=dict(video=synthetic['video_root']),
        pipeline=TEST_PIPELINE if kwargs.get('test_mode') else PIPELINE)
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('videoalign'):
        return DATASETS.build(cfg)


def _with_broken(synthetic: dict, tmp_path) -> str:
    """The synthetic test captions with a garbage and a missing video inserted at positions 1 and 3."""
    with open(synthetic['caption_files']['test']) as f:
        items = list(json.load(f).items())
    items.insert(1, ('test/garbage.mp4', ['a garbage clip', 'more garbage']))
    items.insert(3, ('test/missing.mp4', ['a missing clip']))
    return _write(tmp_path / 'broken.json', json.dumps(dict(items)))


@pytest.fixture
def mm_messages():
    messages = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def test_synthetic_captions_through_the_pipeline(synthetic):
    with open(synthetic['caption_files']['val']) as f:
        captions = json.load(f)
    dataset = _build(synthetic, synthetic['caption_files']['val'], test_mode=True)
    assert type(dataset) is VideoTextRetrievalDataset and dataset.check_videos
    assert (dataset.num_videos, dataset.num_texts) == (10, sum(len(c) for c in captions.values()))
    sample = dataset[3]
    assert tuple(sample['inputs'].shape) == (1, 3, 4, 16, 16)
    data_sample = sample['data_samples']
    assert data_sample.text == list(captions.values())[3]
    assert data_sample.gt_video_id == [3] * len(data_sample.text)
    assert torch.equal(dataset[3]['inputs'], sample['inputs'])  # uniform frames: the same every time

    train = _build(synthetic, synthetic['caption_files']['train'])
    assert not train.check_videos and len(train) == train.num_texts
    sample = train[len(train) - 1]
    assert sample['data_samples'].text == list(json.load(open(synthetic['caption_files']['train'])).values())[-1][-1]
    assert sample['data_samples'].text_id == train.num_texts - 1
    assert sample['data_samples'].metainfo['video_id'] == 9  # PackActionInputs' default meta_keys hold video_id


def test_test_mode_leaves_out_unreadable_videos_and_renumbers(synthetic, tmp_path, mm_messages):
    ann = _with_broken(synthetic, tmp_path)
    dataset = _build(synthetic, ann, test_mode=True)
    root = synthetic['video_root']
    assert dataset.dropped_videos == [osp.join(root, 'test', 'garbage.mp4'), osp.join(root, 'test', 'missing.mp4')]
    assert any('left out 2 of 12 videos' in m and 'with their 3 caption(s)' in m and 'garbage.mp4' in m
               for m in mm_messages)
    reference = _build(synthetic, synthetic['caption_files']['test'], test_mode=True)
    assert _strip(_infos(dataset)) == _strip(_infos(reference))
    assert (dataset.num_videos, dataset.num_texts) == (reference.num_videos, reference.num_texts)


def test_test_mode_without_check_fails_naming_the_video(synthetic, tmp_path):
    dataset = _build(synthetic, _with_broken(synthetic, tmp_path), test_mode=True, check_videos=False)
    assert dataset.num_videos == 12 and dataset.dropped_videos == []
    assert tuple(dataset[0]['inputs'].shape) == (1, 3, 4, 16, 16)
    with pytest.raises(RuntimeError, match='garbage.mp4.*check_videos=True'):
        dataset[1]


def test_training_stands_in_another_pair_or_drops_when_checked(synthetic, tmp_path, monkeypatch):
    ann = _with_broken(synthetic, tmp_path)
    dataset = _build(synthetic, ann)
    assert dataset.get_data_info(1)['filename'].endswith('garbage.mp4')
    monkeypatch.setattr(dataset, '_rand_another', lambda: 0)
    sample = dataset[1]
    assert sample['data_samples'].metainfo[SKIPPED_KEY] == [dataset.get_data_info(1)['filename']]
    assert sample['data_samples'].text_id == 0
    checked = _build(synthetic, ann, check_videos=True)
    assert len(checked.dropped_videos) == 2 and len(checked) == len(dataset) - 3


def test_all_unreadable_raises(synthetic, tmp_path):
    ann = _write(tmp_path / 'bad.json', json.dumps({'test/garbage.mp4': ['x'], 'test/missing.mp4': ['y']}))
    with pytest.raises(RuntimeError, match='none of the 2 videos'):
        _build(synthetic, ann, test_mode=True)
