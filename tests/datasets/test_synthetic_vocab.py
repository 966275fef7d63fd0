"""Tests of the synthetic dataset's WordPiece vocabulary (``vocab.txt``) with ALPRO's tokenizer."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from videoalign.datasets.synthetic import (PALETTE, QUESTION_WORDS, SPECIAL_TOKENS, SPLITS, SYNTHETIC_CLASSES,
                                           generate_synthetic_dataset, make_captions, make_vocab, sample_clip_params,
                                           text_words)
from videoalign.models.text import ALPROTokenizer

TINY = dict(
    num_train_per_class=2, num_val_per_class=1, num_test_per_class=1, num_frames=8, size=32, show_progress=False)


def _lines(path: str) -> list:
    with open(path, encoding='utf-8') as f:
        return f.read().splitlines()


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    return generate_synthetic_dataset(str(tmp_path_factory.mktemp('vocab') / 'data'), **TINY)


def test_vocab_file_layout(tiny):
    assert tiny['vocab_file'] == osp.join(tiny['out_dir'], 'vocab.txt')
    vocab = _lines(tiny['vocab_file'])
    assert vocab == make_vocab([])  # every caption word is a word the generator can write
    assert vocab[:5] == ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] == list(SPECIAL_TOKENS)
    assert len(vocab) == len(set(vocab)) and all(v and v == v.strip() for v in vocab)
    words = vocab[5 + 32:]  # after the specials and the 32 ASCII punctuation characters
    assert words == sorted(words) and all(w.isalpha() and w == w.lower() for w in words)
    assert set(QUESTION_WORDS) <= set(vocab) and set(PALETTE) <= set(vocab)


def test_tokenizer_reads_the_specials_by_name(tiny):
    tokenizer = ALPROTokenizer(vocab=tiny['vocab_file'])
    assert tokenizer.vocab_size == len(_lines(tiny['vocab_file']))
    ids = (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id,
           tokenizer.mask_token_id)
    assert ids == (0, 1, 2, 3, 4)
    assert tokenizer('a red circle')['input_ids'][0, :5].tolist() == [2] + tokenizer.encode('a red circle') + [3]


def test_every_caption_and_question_tokenizes_without_unk(tiny):
    tokenizer = ALPROTokenizer(vocab=tiny['vocab_file'])
    texts = []
    for split in SPLITS:
        with open(tiny['caption_files'][split]) as f:
            texts += [text for captions in json.load(f).values() for text in captions]
    texts += ['What color is the triangle?', 'what shape is moving?', 'What does the red circle do?']
    texts += [name.replace('_', ' ') for name in SYNTHETIC_CLASSES] + list(SYNTHETIC_CLASSES)
    for text in texts:
        pieces = tokenizer.tokenizer.tokenize(text)
        assert pieces == text_words(text), text  # whole words only: no [UNK], no ## pieces
        assert tokenizer.unk_token_id not in tokenizer.encode(text), text


def test_vocab_is_the_same_for_other_seeds():
    rng = np.random.default_rng(123)
    captions = []
    for label in range(len(SYNTHETIC_CLASSES)):
        for _ in range(20):
            captions += make_captions(label, sample_clip_params(label, rng, 8, 32), rng)
    assert make_vocab(captions) == make_vocab()
    assert make_vocab(['A Zebra, jumps!'])[-1] == 'zebra' and 'jumps' in make_vocab(['A Zebra, jumps!'])


def test_text_words_split_like_bert():
    assert text_words("It's a RED circle, moving_left?") == [
        'it', "'", 's', 'a', 'red', 'circle', ',', 'moving', '_', 'left', '?'
    ]


def test_dataset_generated_without_vocab_gets_it_and_keeps_its_videos(tmp_path):
    summary = generate_synthetic_dataset(str(tmp_path / 'old'), **TINY)
    video = osp.join(summary['video_root'], 'train', 'grow_0001.mp4')
    mtime = os.stat(video).st_mtime_ns
    os.remove(summary['vocab_file'])  # as a dataset written before vocab.txt existed
    again = generate_synthetic_dataset(str(tmp_path / 'old'), **TINY)
    assert not again['reused'] and _lines(again['vocab_file']) == make_vocab()
    assert os.stat(video).st_mtime_ns == mtime
    assert generate_synthetic_dataset(str(tmp_path / 'old'), **TINY)['reused']
