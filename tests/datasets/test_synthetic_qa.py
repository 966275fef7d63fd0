"""The questions of the synthetic dataset: three per clip (colour, shape, motion), the answer vocabulary of the
training split, the words in vocab.txt, and datasets written before the question files existed."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from videoalign.datasets.synthetic import (PALETTE, PLAIN_SHAPES, QA_ANSWER_TYPES, ROTATION_SHAPES, SYNTHETIC_CLASSES,
                                           generate_synthetic_dataset, make_ans2label, make_clip, make_questions,
                                           make_vocab, motion_answer, sample_clip_params, text_words)

pytest.importorskip('decord')

TINY = dict(num_train_per_class=2, num_val_per_class=1, num_test_per_class=1, num_frames=8, size=32, fps=8)
SPLITS = ('train', 'val', 'test')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    return generate_synthetic_dataset(
        str(tmp_path_factory.mktemp('synthetic_qa') / 'data'), **TINY, show_progress=False)


def _load(path: str):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def test_make_questions():
    rng = np.random.default_rng(0)
    params = sample_clip_params('move_right', rng, 8, 32)
    color, shape, motion = make_questions('move_right', params)
    assert color == dict(question=f'what color is the {params.shape}?', answer=params.color_name, answer_type='color')
    assert shape == dict(question='what shape is moving?', answer=params.shape, answer_type='shape')
    assert motion == dict(
        question=f'what does the {params.color_name} {params.shape} do?', answer='move right', answer_type='motion')
    assert [motion_answer(c) for c in SYNTHETIC_CLASSES[:2]] == ['move left', 'move right']
    assert make_ans2label(['b', 'a', 'b']) == {'a': 0, 'b': 1}


def test_question_files(tiny):
    assert tiny['ans2label_file'] == osp.join(tiny['out_dir'], 'synthetic_ans2label.json')
    captions = {split: _load(tiny['caption_files'][split]) for split in SPLITS}
    for split in SPLITS:
        assert tiny['qa_files'][split] == osp.join(tiny['out_dir'], f'synthetic_{split}_qa.json')
        items = _load(tiny['qa_files'][split])
        assert len(items) == 3 * len(captions[split])
        assert [item['question_id'] for item in items] == list(range(len(items)))
        assert [item['answer_type'] for item in items] == list(QA_ANSWER_TYPES) * len(captions[split])
        assert [item['video'] for item in items[::3]] == list(captions[split])  # the clips, in the same order
        for item in items:
            assert set(item) == {'question_id', 'video', 'question', 'answer', 'answer_type'}
    # the answers are those of the rendered clips
    items = _load(tiny['qa_files']['val'])
    label = SYNTHETIC_CLASSES.index('shrink')
    index = next(i for i, item in enumerate(items) if item['video'] == 'val/shrink_0000.mp4')
    _, params, _ = make_clip(0, 'val', label, 0, num_frames=8, size=32)
    assert [item['answer'] for item in items[index:index + 3]] == [params.color_name, params.shape, 'shrink']


def test_ans2label_holds_the_training_answers(tiny):
    ans2label = _load(tiny['ans2label_file'])
    train_answers = {item['answer'] for item in _load(tiny['qa_files']['train'])}
    assert list(ans2label) == sorted(train_answers) and list(ans2label.values()) == list(range(len(ans2label)))
    assert {motion_answer(c) for c in SYNTHETIC_CLASSES} <= set(ans2label)  # every class is in training
    possible = set(PALETTE) | set(PLAIN_SHAPES + ROTATION_SHAPES) | {motion_answer(c) for c in SYNTHETIC_CLASSES}
    assert set(ans2label) <= possible and len(possible) == 22


def test_every_question_word_is_in_the_vocabulary(tiny):
    with open(tiny['vocab_file'], encoding='utf-8') as f:
        vocab = set(f.read().splitlines())
    assert vocab == set(make_vocab())  # the questions add no word: vocab.txt is unchanged
    for split in SPLITS:
        for item in _load(tiny['qa_files'][split]):
            assert set(text_words(item['question'])) <= vocab and set(text_words(item['answer'])) <= vocab


def test_a_dataset_without_question_files_gets_them_and_keeps_its_videos(tmp_path):
    summary = generate_synthetic_dataset(str(tmp_path / 'old'), **TINY, show_progress=False)
    video = osp.join(summary['video_root'], 'train', 'grow_0001.mp4')
    mtime = os.stat(video).st_mtime_ns
    expected = _load(summary['qa_files']['test'])
    for path in [summary['ans2label_file'], *summary['qa_files'].values()]:
        os.remove(path)  # as a dataset written before the question files existed
    again = generate_synthetic_dataset(str(tmp_path / 'old'), **TINY, show_progress=False)
    assert not again['reused'] and _load(again['qa_files']['test']) == expected
    assert osp.isfile(again['ans2label_file']) and os.stat(video).st_mtime_ns == mtime
    assert generate_synthetic_dataset(str(tmp_path / 'old'), **TINY, show_progress=False)['reused']
