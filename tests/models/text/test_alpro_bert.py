"""Tests of ALPRO's split BERT (ALPROBert) and its tokenizer (ALPROTokenizer) on a tiny config and vocabulary.

The references are the transcriptions of BERT and of ALPRO's ``xbert.py`` in :mod:`videoalign.testing.alpro_reference`
(``mode='text'``: embeddings + layers ``[:fusion_layer]``; ``mode='fusion'``: layers ``[fusion_layer:]`` over
``cat([text, video])`` with ``cat([text_mask, video_mask])`` turned into ``(1 - mask) * -10000``), computed from the
model's state dict (xbert's key names), not calls of the module under test.
"""
import logging
from typing import List

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_state_dict as mmengine_load_state_dict

from videoalign.models.text import ALPROBert, ALPROTokenizer
from videoalign.registry import MODELS, TOKENIZERS
from videoalign.testing.alpro_reference import xbert_fusion, xbert_mlm, xbert_text

WORDS = [
    'a', 'the', 'red', 'green', 'blue', 'circle', 'square', 'triangle', 'moves', 'to', 'left', 'right', 'up', 'down',
    'what', 'color', 'is', 'shape', 'moving', 'does', 'do', 'video', 'of', 'man', 'play', '##ing', '##s', 'guitar',
    'dog', 'run', '.', ',', '?', '!'
]
TEXTS = ['A red circle moves to the left.', 'what color is the square?', 'Playing guitar', 'the dog runs']


def _vocab_lines() -> List[str]:
    """BERT's layout: [PAD]=0, [unused0..98]=1..99, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, then pieces."""
    return ['[PAD]'] + [f'[unused{i}]' for i in range(99)] + ['[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS


@pytest.fixture(scope='module')
def vocab_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp('vocab') / 'vocab.txt'
    path.write_text('\n'.join(_vocab_lines()) + '\n', encoding='utf-8')
    return str(path)


@pytest.fixture(scope='module')
def tokenizer(vocab_file) -> ALPROTokenizer:
    return TOKENIZERS.build(dict(type='ALPROTokenizer', vocab=vocab_file, max_length=12))


def _tiny_config() -> dict:
    return dict(
        vocab_size=len(_vocab_lines()),
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64)


def _build(attn_implementation: str = 'sdpa', seed: int = 0) -> ALPROBert:
    torch.manual_seed(seed)
    model = MODELS.build(
        dict(type='ALPROBert', config=_tiny_config(), fusion_layer=2, attn_implementation=attn_implementation))
    return model.eval()


# ---------------------------------------------------------------- transcriptions of BERT / xbert


def _reference_text(model: ALPROBert, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return xbert_text(model.state_dict(), input_ids, mask, model.config.num_attention_heads, model.fusion_layer,
                      model.config.layer_norm_eps)


def _reference_fusion(model: ALPROBert, text: torch.Tensor, text_mask: torch.Tensor, video: torch.Tensor,
                      video_mask: torch.Tensor) -> torch.Tensor:
    return xbert_fusion(model.state_dict(), text, text_mask, video, video_mask, model.config.num_attention_heads,
                        model.fusion_layer, model.config.layer_norm_eps)


def _reference_mlm(model: ALPROBert, x: torch.Tensor) -> torch.Tensor:
    return xbert_mlm(model.state_dict(), x, model.config.layer_norm_eps)


def _batch(tokenizer: ALPROTokenizer, texts=TEXTS, max_length: int = 12):
    enc = tokenizer(texts, max_length=max_length)
    return enc['input_ids'], enc['attention_mask']


# ---------------------------------------------------------------- ALPROBert


@pytest.mark.parametrize('attn_implementation', ['sdpa', 'eager'])
def test_forward_text_equals_transcription(tokenizer, attn_implementation):
    model = _build(attn_implementation)
    ids, mask = _batch(tokenizer)
    assert mask.sum(1).tolist() != [12] * len(TEXTS)  # some rows are padded
    with torch.no_grad():
        out = model.forward_text(ids, mask)
        ref = _reference_text(model, ids, mask)
    assert out.shape == (len(TEXTS), 12, 32)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_forward_text_equals_transformers_bert_model(tokenizer):
    """The text part is BertModel's hidden state after layer ``fusion_layer``, padding included."""
    from transformers import BertConfig, BertModel
    model = _build()
    bert = BertModel(BertConfig(attn_implementation='eager', **_tiny_config()), add_pooling_layer=False).eval()
    assert not bert.load_state_dict(model.bert.state_dict(), strict=True).missing_keys
    ids, mask = _batch(tokenizer)
    with torch.no_grad():
        hidden = bert(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        torch.testing.assert_close(model.forward_text(ids, mask), hidden[model.fusion_layer], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('attn_implementation', ['sdpa', 'eager'])
def test_forward_fusion_equals_transcription(tokenizer, attn_implementation):
    model = _build(attn_implementation)
    ids, mask = _batch(tokenizer)
    torch.manual_seed(1)
    video = torch.randn(len(TEXTS), 5, 32)
    video_mask = torch.ones(len(TEXTS), 5, dtype=torch.long)
    video_mask[1, 3:] = 0
    with torch.no_grad():
        text = model.forward_text(ids, mask)
        out = model.forward_fusion(text, mask, video, video_mask)
        ref = _reference_fusion(model, text, mask, video, video_mask)
        default = model.forward_fusion(text, mask, video)
        ref_default = _reference_fusion(model, text, mask, video, torch.ones_like(video_mask))
        full = model(ids, mask, video, video_mask)
    assert out.shape == (len(TEXTS), 12 + 5, 32)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(default, ref_default, atol=1e-5, rtol=1e-5)  # no video mask: all video tokens
    torch.testing.assert_close(full, out)
    # [text ; video] order: the video tokens attend to the text; a masked video token changes nothing else
    video2 = video.clone()
    video2[1, 4] += 10.0
    with torch.no_grad():
        out2 = model.forward_fusion(text, mask, video2, video_mask)
    keep = torch.ones(len(TEXTS), 17, dtype=torch.bool)
    keep[1, 12 + 4] = False
    torch.testing.assert_close(out2[keep], out[keep], atol=1e-5, rtol=1e-5)


def test_padded_positions_do_not_change_real_outputs(tokenizer):
    model = _build()
    ids, mask = _batch(tokenizer)
    row = int(mask.sum(1).argmin())
    length = int(mask[row].sum())
    assert length < 12
    ids2 = ids.clone()
    ids2[row, length:] = tokenizer.mask_token_id  # anything but [PAD] at the padded positions
    video = torch.randn(len(TEXTS), 5, 32)
    with torch.no_grad():
        t1, t2 = model.forward_text(ids, mask), model.forward_text(ids2, mask)
        f1, f2 = model.forward_fusion(t1, mask, video), model.forward_fusion(t2, mask, video)
    assert not torch.allclose(t1[row, length:], t2[row, length:])  # the padded states did change
    real = mask.bool()
    torch.testing.assert_close(t1[real], t2[real], atol=1e-5, rtol=1e-5)
    real_fused = torch.cat([real, torch.ones(len(TEXTS), 5, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(f1[real_fused], f2[real_fused], atol=1e-5, rtol=1e-5)


def test_mlm_logits(tokenizer):
    model = _build()
    ids, mask = _batch(tokenizer)
    with torch.no_grad():
        fused = model(ids, mask, torch.randn(len(TEXTS), 5, 32))
        logits = model.mlm_logits(fused[:, :12])
        ref = _reference_mlm(model, fused[:, :12])
    assert logits.shape == (len(TEXTS), 12, len(_vocab_lines())) == (len(TEXTS), 12, model.vocab_size)
    torch.testing.assert_close(logits, ref, atol=1e-5, rtol=1e-5)
    # the decoder is tied to the word embeddings, as BERT (and xbert under transformers 4.11)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


def _official_keys(num_layers: int) -> set:
    """Key names of xbert's BertForMaskedLM (ALPRO's ``text_encoder``), written out from its module tree."""
    keys = {
        'bert.embeddings.position_ids', 'bert.embeddings.word_embeddings.weight',
        'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
        'bert.embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.bias', 'cls.predictions.bias',
        'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias',
        'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias',
        'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'
    }
    for n in range(num_layers):
        for name in ('attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense',
                     'attention.output.LayerNorm', 'intermediate.dense', 'output.dense', 'output.LayerNorm'):
            keys |= {f'bert.encoder.layer.{n}.{name}.weight', f'bert.encoder.layer.{n}.{name}.bias'}
    return keys


def test_state_dict_keys_match_official_layout():
    model = _build()
    keys = set(model.state_dict())
    assert not any(k.startswith('bert.pooler') for k in keys)  # xbert's BertForMaskedLM has no pooler
    assert all(k.startswith(('bert.embeddings.', 'bert.encoder.layer.', 'cls.predictions.')) for k in keys)
    official = _official_keys(4)
    assert keys == official - {'bert.embeddings.position_ids'}


def test_official_text_encoder_keys_load_strict():
    """Official ``text_encoder.*`` keys (with xbert's persistent ``position_ids``) load unchanged, strict."""

    class Wrapper(nn.Module):

        def __init__(self, text_encoder: nn.Module) -> None:
            super().__init__()
            self.text_encoder = text_encoder

    source = _build(seed=3)
    official = {f'text_encoder.{k}': v.clone() for k, v in source.state_dict().items()}
    official['text_encoder.bert.embeddings.position_ids'] = torch.arange(64).expand(1, -1).clone()
    assert set(official) == {f'text_encoder.{k}' for k in _official_keys(4)}

    target = Wrapper(_build(seed=4))
    result = target.load_state_dict(dict(official), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.text_encoder.state_dict()[key], value)

    target = Wrapper(_build(seed=5))
    mmengine_load_state_dict(target, dict(official), strict=True)  # mmengine's loader goes through the same hook
    torch.testing.assert_close(target.text_encoder.bert.embeddings.word_embeddings.weight,
                               source.bert.embeddings.word_embeddings.weight)


def test_unexpected_position_ids_are_reported():
    model = _build()
    state = dict(model.state_dict())
    state['bert.embeddings.position_ids'] = torch.arange(64).flip(0)[None]
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    try:
        model.load_state_dict(state, strict=True)
    finally:
        logger.removeHandler(handler)
    assert any('position_ids of the checkpoint is not arange(64)' in m for m in handler.messages)


def test_init_weights_keeps_weights_and_pretrained_folder(tmp_path, tokenizer):
    from transformers import BertConfig, BertForMaskedLM
    model = _build()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.init_weights()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    torch.manual_seed(7)
    hf = BertForMaskedLM(BertConfig(**_tiny_config())).eval()
    hf.save_pretrained(tmp_path / 'bert')
    loaded = ALPROBert(pretrained=str(tmp_path / 'bert'), fusion_layer=2).eval()
    for key, value in hf.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    ids, mask = _batch(tokenizer)
    with torch.no_grad():  # full BertForMaskedLM (text layers then fusion layers, no video) = text + empty fusion
        empty = torch.zeros(len(TEXTS), 0, 32)
        logits = loaded.mlm_logits(loaded.forward_fusion(loaded.forward_text(ids, mask), mask, empty))
        torch.testing.assert_close(logits, hf(input_ids=ids, attention_mask=mask).logits, atol=1e-5, rtol=1e-5)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='local folder'):
        ALPROBert(pretrained='bert-base-uncased')
    with pytest.raises(ValueError, match='fusion_layer'):
        ALPROBert(config=_tiny_config(), fusion_layer=5)
    with pytest.raises(ValueError, match='attn_implementation'):
        ALPROBert(config=_tiny_config(), attn_implementation='flash')
    with pytest.raises(ValueError, match='cross'):
        ALPROBert(config=dict(_tiny_config(), add_cross_attention=True), fusion_layer=2)
    model = _build()
    ids = torch.ones(2, 6, dtype=torch.long)
    with pytest.raises(ValueError, match='attention_mask'):
        model.forward_text(ids, torch.ones(2, 5))
    text = model.forward_text(ids)
    with pytest.raises(ValueError, match='width'):
        model.forward_fusion(text, torch.ones(2, 6), torch.randn(2, 3, 16))
    with pytest.raises(ValueError, match='video_mask'):
        model.forward_fusion(text, torch.ones(2, 6), torch.randn(2, 3, 32), torch.ones(2, 4))


# ---------------------------------------------------------------- ALPROTokenizer


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_tokenizer_special_ids_and_vocab(tokenizer):
    assert isinstance(tokenizer, ALPROTokenizer)
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id,
            tokenizer.mask_token_id) == (0, 100, 101, 102, 103)
    assert tokenizer.vocab_size == len(_vocab_lines())
    assert set(tokenizer.all_special_ids) == {0, 100, 101, 102, 103}


def test_tokenizer_round_trip_padding_and_mask(tokenizer):
    enc = tokenizer(TEXTS)
    ids, mask = enc['input_ids'], enc['attention_mask']
    assert ids.shape == mask.shape == (len(TEXTS), 12) and ids.dtype == mask.dtype == torch.long
    for row, text in enumerate(TEXTS):
        pieces = tokenizer.encode(text)
        assert 100 not in pieces  # every word is in the test vocabulary
        length = len(pieces) + 2
        assert ids[row, 0] == 101 and ids[row, length - 1] == 102
        assert (ids[row, length:] == 0).all()
        assert mask[row].tolist() == [1] * length + [0] * (12 - length)
        assert tokenizer.decode(ids[row]) == text.lower()  # word pieces joined, punctuation spaces cleaned
    assert tokenizer.encode('Playing') == [WORDS.index('play') + 104, WORDS.index('##ing') + 104]  # lower-cased
    assert tokenizer.encode('zebra') == [100]
    single = tokenizer('the dog', max_length=6)
    assert single['input_ids'].tolist() == [[101, 105, 132, 102, 0, 0]]
    assert tokenizer([])['input_ids'].shape == (0, 12)


def test_tokenizer_equals_transformers_batch_encode(tokenizer):
    """ALPRO's call: ``batch_encode_plus(max_length, padding='max_length', truncation=True)``."""
    texts = TEXTS + ['the red square moves up and down and left and right']
    for max_length in (4, 12, 20):
        ref = tokenizer.tokenizer(
            texts, max_length=max_length, padding='max_length', truncation=True, return_tensors='pt')
        enc = tokenizer(texts, max_length=max_length)
        assert torch.equal(enc['input_ids'], ref['input_ids'])
        assert torch.equal(enc['attention_mask'], ref['attention_mask'])


def test_tokenizer_truncation_warns_once_per_text(vocab_file):
    tokenizer = ALPROTokenizer(vocab=vocab_file, max_length=6)
    long_text = 'a red circle moves to the left'
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    try:
        enc = tokenizer(['the dog', long_text, long_text])
        tokenizer(long_text)
    finally:
        logger.removeHandler(handler)
    cut = [m for m in handler.messages if m.startswith('text cut to 4 of its 7 word pieces')]
    assert len(cut) == 1 and repr(long_text) in cut[0]
    assert enc['input_ids'][1].tolist() == [101] + tokenizer.encode(long_text)[:4] + [102]
    assert enc['attention_mask'][1].tolist() == [1] * 6


def test_tokenizer_from_folder_and_errors(tmp_path, vocab_file):
    folder = tmp_path / 'bert'
    folder.mkdir()
    (folder / 'vocab.txt').write_text(open(vocab_file, encoding='utf-8').read(), encoding='utf-8')
    from_dir = ALPROTokenizer(vocab=str(folder), max_length=12)
    from_file = ALPROTokenizer(vocab=vocab_file, max_length=12)
    assert torch.equal(from_dir(TEXTS)['input_ids'], from_file(TEXTS)['input_ids'])
    assert 'max_length=12' in repr(from_dir)

    with pytest.raises(FileNotFoundError, match='vocab'):
        ALPROTokenizer(vocab=str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='no vocab.txt'):
        ALPROTokenizer(vocab=str(tmp_path))
    no_specials = tmp_path / 'plain.txt'
    no_specials.write_text('[PAD]\n[UNK]\nred\n', encoding='utf-8')
    with pytest.raises(ValueError, match='special tokens'):
        ALPROTokenizer(vocab=str(no_specials))
    with pytest.raises(ValueError, match='max_length'):
        ALPROTokenizer(vocab=vocab_file, max_length=1)
    with pytest.raises(TypeError, match='str'):
        from_file(['ok', 3])


def test_without_mlm_head():
    """Retrieval and QA build the BERT without its MLM head: only bert.* keys, the same text and fusion outputs."""
    torch.manual_seed(0)
    with_head = MODELS.build(dict(type='ALPROBert', config=_tiny_config(), fusion_layer=2)).eval()
    without = MODELS.build(dict(type='ALPROBert', config=_tiny_config(), fusion_layer=2, mlm_head=False)).eval()
    state = {k: v for k, v in with_head.state_dict().items() if k.startswith('bert.')}
    without.load_state_dict(state, strict=True)
    assert all(k.startswith('bert.') for k in without.state_dict())
    ids = torch.randint(0, 10, (2, 5))
    torch.testing.assert_close(without.forward_text(ids), with_head.forward_text(ids))
    with pytest.raises(RuntimeError, match='mlm_head=False'):
        without.mlm_logits(torch.zeros(1, 32))


def test_google_bert_checkpoint_layout_loads(tmp_path):
    """bert-base-uncased's pytorch_model.bin (BertForPreTraining: LayerNorm gamma/beta, pooler, next-sentence head)
    through mmengine's Pretrained init: the LayerNorms are loaded, the extras dropped, nothing left missing."""
    torch.manual_seed(1)
    source = _build()
    state = {}
    for key, value in source.state_dict().items():
        if key.endswith('LayerNorm.weight'):
            key = key[:-len('weight')] + 'gamma'
        elif key.endswith('LayerNorm.bias'):
            key = key[:-len('bias')] + 'beta'
        state[key] = value.clone() + (0.5 if 'LayerNorm' in key else 0.)
    state['bert.pooler.dense.weight'] = torch.zeros(32, 32)
    state['cls.seq_relationship.weight'] = torch.zeros(2, 32)
    path = str(tmp_path / 'pytorch_model.bin')
    torch.save(state, path)
    for mlm_head in (True, False):
        model = MODELS.build(
            dict(
                type='ALPROBert',
                config=_tiny_config(),
                fusion_layer=2,
                mlm_head=mlm_head,
                init_cfg=dict(type='Pretrained', checkpoint=path)))
        model.init_weights()
        expected = source.bert.embeddings.LayerNorm.weight + 0.5
        torch.testing.assert_close(model.bert.embeddings.LayerNorm.weight, expected)
        result = model.load_state_dict(torch.load(path), strict=True)  # strict: nothing missing, nothing unexpected
        assert not result.missing_keys and not result.unexpected_keys
