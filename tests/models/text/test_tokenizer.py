"""Tests of CLIPTokenizer against open_clip's tokenize."""
import logging

import open_clip
import pytest
import torch
from mmengine.logging import MMLogger

from videoalign.models.text import CLIPTokenizer
from videoalign.registry import TOKENIZERS

TEXTS = ['a photo of a dog.', 'Playing   Guitar', 'abseiling', 'passing American football (in game)']


@pytest.fixture(scope='module')
def tokenizer() -> CLIPTokenizer:
    return TOKENIZERS.build(dict(type='CLIPTokenizer'))


def test_special_ids_and_vocab(tokenizer):
    assert isinstance(tokenizer, CLIPTokenizer)
    assert (tokenizer.sot_token_id, tokenizer.eot_token_id, tokenizer.vocab_size) == (49406, 49407, 49408)
    assert tokenizer.context_length == 77


def test_shapes_and_sot_eot_positions(tokenizer):
    tokens = tokenizer(TEXTS)
    assert tokens.shape == (4, 77) and tokens.dtype == torch.long
    assert tokenizer('abseiling').shape == (1, 77)
    for row, text in zip(tokens, TEXTS):
        length = len(tokenizer.encode(text))
        assert row[0] == tokenizer.sot_token_id
        assert row[length + 1] == tokenizer.eot_token_id
        assert row.argmax() == length + 1  # CLIP finds EOT as the argmax
        assert (row[length + 2:] == 0).all()
    length = len(tokenizer.encode('abseiling'))
    assert tokenizer.decode(tokens[2, 1:length + 1].tolist()).strip() == 'abseiling'


def test_equals_open_clip_tokenize(tokenizer):
    assert torch.equal(tokenizer(TEXTS), open_clip.tokenize(TEXTS))
    assert torch.equal(tokenizer(TEXTS, context_length=8), open_clip.tokenize(TEXTS, context_length=8))


def test_truncation_keeps_eot(tokenizer):
    long_text = ' '.join(['guitar'] * 200)
    tokens = tokenizer([long_text, 'short'])
    assert tokens.shape == (2, 77)
    assert tokens[0, 0] == tokenizer.sot_token_id and tokens[0, -1] == tokenizer.eot_token_id
    assert (tokens[0, 1:-1] != 0).all()
    assert torch.equal(tokens, open_clip.tokenize([long_text, 'short']))
    short = tokenizer(long_text, context_length=5)
    assert short.shape == (1, 5) and short[0, -1] == tokenizer.eot_token_id


def test_context_length_argument():
    tokenizer = CLIPTokenizer(context_length=16)
    assert tokenizer(TEXTS).shape == (4, 16)
    assert tokenizer([]).shape == (0, 16)
    with pytest.raises(ValueError, match='context_length'):
        tokenizer(TEXTS, context_length=1)


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_truncation_is_reported_once_per_text():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    try:
        tokenizer = CLIPTokenizer(context_length=6)
        tokenizer(['short', 'one two three four five six seven', 'one two three four five six seven'])
        tokenizer('one two three four five six seven')
    finally:
        logger.removeHandler(handler)
    cut = [m for m in handler.messages if m.startswith('text cut to 4 of its 7 tokens')]
    assert len(cut) == 1 and "'one two three four five six seven'" in cut[0]
