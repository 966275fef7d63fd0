"""VideoQADataset: ALPRO's jsonl and mmaction2's MSRVTTVQA json, the answer vocabulary, unknown answers in training
and evaluation, errors that name the file, and the packed samples of the synthetic questions."""
import json
import logging
import os.path as osp

import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from videoalign.datasets import VideoQADataset
from videoalign.datasets.synthetic import generate_synthetic_dataset
from videoalign.datasets.video_dataset import SKIPPED_KEY
from videoalign.datasets.video_qa_dataset import load_answers
from videoalign.registry import DATASETS

ANS2LABEL = {'couch': 0, 'man': 1, 'dance': 2}
ALPRO_LINES = [
    dict(answer='couch', question='what are three people sitting on?', video_id='video6513', answer_type='what'),
    dict(answer='man', question='who is talking?', video_id='video7000', answer_type='who'),
    dict(answer='piano', question='what is played?', video_id='video6513', answer_type='what'),
    dict(answer='dance', question='how do people move?', video_id='video7001', answer_type='how'),
]
MMACTION_ITEMS = [
    dict(question_id=10, video='video7000.mp4', question='Who is talking?', answer='man'),
    dict(question_id=11, video='video7001.mp4', question='What do they do?', answer=['dance', 'sing', 'dance']),
]


def _write(path, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


@pytest.fixture
def files(tmp_path) -> dict:
    return dict(
        jsonl=_write(tmp_path / 'train.jsonl', ''.join(json.dumps(line) + '\n' for line in ALPRO_LINES)),
        json=_write(tmp_path / 'qa.json', json.dumps(MMACTION_ITEMS)),
        ans2label=_write(tmp_path / 'train_ans2label.json', json.dumps(ANS2LABEL)))


def _dataset(ann_file: str, **kwargs) -> VideoQADataset:
    return VideoQADataset(ann_file, pipeline=[], **dict(dict(data_prefix=dict(video='videos')), **kwargs))


def test_alpro_jsonl_and_the_official_answer_handling(files):
    evaluation = _dataset(files['jsonl'], ans2label=files['ans2label'], test_mode=True)
    assert len(evaluation) == 4 and evaluation.num_answers == 3
    first = evaluation.get_data_info(0)
    assert first['filename'] == osp.join('videos', 'video6513.mp4')
    assert (first['question'], first['gt_answer'], first['label'],
            first['answer_type']) == ('what are three people sitting on?', 'couch', 0, 'what')
    assert [evaluation.get_data_info(i)['question_id'] for i in range(4)] == [0, 1, 2, 3]  # ALPRO: line order
    assert evaluation.get_data_info(2)['label'] == -1  # 'piano' is kept in evaluation: it counts as wrong
    assert evaluation.metainfo['classes'] == ('couch', 'man', 'dance')

    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        train = _dataset(files['jsonl'], ans2label=ANS2LABEL)
    finally:
        logger.removeHandler(handler)
    assert len(train) == 3 and train.num_dropped == 1
    assert [train.get_data_info(i)['gt_answer'] for i in range(3)] == ['couch', 'man', 'dance']
    assert [train.get_data_info(i)['question_id'] for i in range(3)] == [0, 1, 3]
    assert any('left out 1 training question' in r.getMessage() and "'piano'" in r.getMessage() for r in records)
    with pytest.raises(KeyError, match=r"train\.jsonl:3: the answer 'piano'"):
        _dataset(files['jsonl'], ans2label=ANS2LABEL, unknown_answers='error')
    # an extension already there is not added twice; another video extension (MSVD's .avi)
    avi = _dataset(files['jsonl'], ans2label=ANS2LABEL, video_ext='.avi', test_mode=True)
    assert avi.get_data_info(0)['filename'] == osp.join('videos', 'video6513.avi')


def test_mmaction_msrvttvqa_json(files):
    dataset = _dataset(files['json'], ans2label=['man', 'dance'], test_mode=True, pre_text=True)
    info = dataset.get_data_info(1)
    assert (info['question_id'], info['gt_answer'], info['label']) == (11, 'dance', 1)  # the most frequent answer
    assert dataset.get_data_info(0)['question'] == 'who is talking'  # mmaction2's pre_text
    assert 'answer_type' not in info and info['filename'] == osp.join('videos', 'video7001.mp4')
    no_vocabulary = _dataset(files['json'], test_mode=True)
    assert no_vocabulary.num_answers is None and 'label' not in no_vocabulary.get_data_info(0)


def test_load_answers(files, tmp_path):
    assert load_answers(files['ans2label']) == ['couch', 'man', 'dance']
    assert load_answers(['b', 'a']) == ['b', 'a'] and load_answers({'a': 1, 'b': 0}) == ['b', 'a']
    assert load_answers(_write(tmp_path / 'list.json', '["x", "y"]')) == ['x', 'y']
    with pytest.raises(ValueError, match=r'bad\.json: the labels of an ans2label must be 0 \.\. 1'):
        load_answers(_write(tmp_path / 'bad.json', '{"a": 0, "b": 2}'))
    with pytest.raises(ValueError, match='more than once'):
        load_answers(['a', 'a'])
    with pytest.raises(ValueError, match='not json'):
        load_answers(_write(tmp_path / 'text.json', 'a\nb\n'))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_answers(str(tmp_path / 'missing.json'))


def test_errors_name_the_file_and_the_place(files, tmp_path):
    with pytest.raises(ValueError, match='needs the answer vocabulary'):
        _dataset(files['jsonl'])
    with pytest.raises(FileNotFoundError, match='nothing.jsonl'):
        _dataset(str(tmp_path / 'nothing.jsonl'), test_mode=True)
    bad_line = _write(tmp_path / 'bad.jsonl', json.dumps(ALPRO_LINES[0]) + '\n{"question": \n')
    with pytest.raises(ValueError, match=r'bad\.jsonl:2: cannot parse'):
        _dataset(bad_line, test_mode=True)
    no_video = _write(tmp_path / 'novideo.json', json.dumps([dict(question='q?', answer='a')]))
    with pytest.raises(ValueError, match=r'novideo\.json item 0: cannot read'):
        _dataset(no_video, test_mode=True)
    bad_answer = _write(tmp_path / 'answer.json', json.dumps([dict(video='v.mp4', question='q?', answer=3)]))
    with pytest.raises(ValueError, match=r'"answer" must be a str'):
        _dataset(bad_answer, test_mode=True)
    all_unknown = _write(tmp_path / 'unknown.jsonl', json.dumps(ALPRO_LINES[2]) + '\n')
    with pytest.raises(ValueError, match='no question to use'):
        _dataset(all_unknown, ans2label=ANS2LABEL)
    with pytest.raises(ValueError, match='unknown_answers'):
        _dataset(files['jsonl'], ans2label=ANS2LABEL, unknown_answers='keep')
    with pytest.raises(ValueError, match='class_names does not apply'):
        _dataset(files['jsonl'], ans2label=ANS2LABEL, class_names=['a'])


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> dict:
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('synthetic_qa') / 'data'),
        num_train_per_class=1,
        num_val_per_class=1,
        num_test_per_class=1,
        num_frames=8,
        size=32,
        show_progress=False)


def _pipeline() -> list:
    return [
        dict(type='DecordInit'),
        dict(type='ALPROSampleFrames', num_frames=4, mode='uniform'),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs', algorithm_keys=('question', 'gt_answer', 'question_id', 'answer_type'))
    ]


def test_packed_synthetic_questions(synthetic):
    init_default_scope('videoalign')
    dataset = DATASETS.build(
        dict(
            type='VideoQADataset',
            ann_file=synthetic['qa_files']['train'],
            data_prefix=dict(video=synthetic['video_root']),
            ans2label=synthetic['ans2label_file'],
            pipeline=_pipeline()))
    assert len(dataset) == 30  # 10 clips, 3 questions each
    packed = dataset[2]
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (1, 3, 4, 32, 32)
    assert (sample.question_id, sample.answer_type) == (2, 'motion')
    assert sample.question.startswith('what does the ') and sample.gt_answer == 'move left'
    assert sample.gt_label.tolist() == [dataset.metainfo['classes'].index('move left')]


def test_an_unreadable_video_in_evaluation_is_replaced_and_marked(synthetic, tmp_path):
    with open(synthetic['qa_files']['val']) as f:
        items = json.load(f)[:2]
    items[0]['video'] = 'val/missing.mp4'
    ann = _write(tmp_path / 'val_qa.json', json.dumps(items))
    init_default_scope('videoalign')
    dataset = VideoQADataset(
        ann,
        _pipeline(),
        data_prefix=dict(video=synthetic['video_root']),
        ans2label=synthetic['ans2label_file'],
        test_mode=True)
    stand_in = dataset[0]['data_samples']
    assert stand_in.question_id == 1 and stand_in.metainfo[SKIPPED_KEY][0].endswith('missing.mp4')
