"""mask_tokens_for_mlm: BERT's 15% / 80-10-10 masking, as ALPRO's ``mask_batch_text_tokens``, draw for draw."""
import pytest
import torch

from videoalign.models.text import ALPROTokenizer, mask_tokens_for_mlm
from videoalign.testing.alpro import write_vocab

PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
SPECIAL = (PAD, UNK, CLS, SEP, MASK)
VOCAB = 500


class _OfficialTokenizer:
    """The parts of transformers' ``BertTokenizer`` that ``mask_batch_text_tokens`` uses."""
    mask_token = '[MASK]'
    _pad_token = '[PAD]'
    pad_token_id = PAD

    def get_special_tokens_mask(self, token_ids, already_has_special_tokens=False):
        assert already_has_special_tokens
        return [1 if token in SPECIAL else 0 for token in token_ids]

    def convert_tokens_to_ids(self, token):
        assert token == '[MASK]'
        return MASK

    def __len__(self):
        return VOCAB


def official_mask_batch_text_tokens(inputs, tokenizer, mlm_probability=0.15, is_train=True):
    """``src/datasets/data_utils.py`` ``mask_batch_text_tokens`` of salesforce/ALPRO (it writes into ``inputs``)."""
    if tokenizer.mask_token is None:
        raise ValueError('This tokenizer does not have a mask token which is necessary for masked language modeling.')
    labels = inputs.clone()
    probability_matrix = torch.full(labels.shape, mlm_probability)
    special_tokens_mask = [
        tokenizer.get_special_tokens_mask(val, already_has_special_tokens=True) for val in labels.tolist()
    ]
    probability_matrix.masked_fill_(torch.tensor(special_tokens_mask, dtype=torch.bool), value=0.0)
    if tokenizer._pad_token is not None:
        padding_mask = labels.eq(tokenizer.pad_token_id)
        probability_matrix.masked_fill_(padding_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix).bool()
    labels[~masked_indices] = -100
    indices_replaced = torch.bernoulli(torch.full(labels.shape, 0.8)).bool() & masked_indices
    inputs[indices_replaced] = tokenizer.convert_tokens_to_ids(tokenizer.mask_token)
    indices_random = torch.bernoulli(torch.full(labels.shape, 0.5)).bool() & masked_indices & ~indices_replaced
    random_words = torch.randint(len(tokenizer), labels.shape, dtype=torch.long)
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels


def _batch(batch: int = 8, length: int = 20, seed: int = 0):
    """Padded captions: [CLS] words [SEP] [PAD]..., some [UNK] among the words."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.full((batch, length), PAD, dtype=torch.long)
    mask = torch.zeros(batch, length, dtype=torch.long)
    for row in range(batch):
        n = int(torch.randint(3, length - 1, (1, ), generator=gen))
        words = torch.randint(MASK + 1, VOCAB, (n, ), generator=gen)
        words[torch.rand(n, generator=gen) < 0.1] = UNK
        ids[row, :n + 2] = torch.cat([torch.tensor([CLS]), words, torch.tensor([SEP])])
        mask[row, :n + 2] = 1
    return ids, mask


def _mask(ids, mask, **kwargs):
    return mask_tokens_for_mlm(ids, mask, SPECIAL, MASK, VOCAB, **kwargs)


def test_equals_the_official_function_for_the_same_draws():
    ids, mask = _batch(16, 24)
    for seed in range(20):
        torch.manual_seed(seed)
        masked, labels = _mask(ids, mask)
        after_ours = torch.rand(1)
        torch.manual_seed(seed)
        ref_ids, ref_labels = official_mask_batch_text_tokens(ids.clone(), _OfficialTokenizer())
        after_official = torch.rand(1)
        assert torch.equal(masked, ref_ids) and torch.equal(labels, ref_labels)
        assert torch.equal(after_ours, after_official)  # the same number of draws
        # a generator seeded alike is the same stream as the seeded global one
        with_generator = _mask(ids, mask, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(with_generator[0], ref_ids) and torch.equal(with_generator[1], ref_labels)


def test_inputs_are_not_modified_and_types():
    ids, mask = _batch()
    before = ids.clone()
    masked, labels = _mask(ids, mask, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ids, before)
    assert masked.dtype == labels.dtype == torch.long and masked.shape == labels.shape == ids.shape


def test_statistics_over_many_draws():
    ids, mask = _batch(64, 32, seed=1)
    eligible = (mask == 1) & ~torch.isin(ids, torch.tensor(SPECIAL))
    gen = torch.Generator().manual_seed(2)
    chosen = as_mask = kept = randomised = 0
    for _ in range(100):
        masked, labels = _mask(ids, mask, generator=gen)
        picked = labels != -100
        # never a special token or padding; labels are the original ids; the rest is untouched
        assert not (picked & ~eligible).any()
        assert torch.equal(labels[picked], ids[picked]) and torch.equal(masked[~picked], ids[~picked])
        chosen += int(picked.sum())
        as_mask += int((masked[picked] == MASK).sum())
        kept += int((masked[picked] == ids[picked]).sum())
        randomised += int(((masked[picked] != MASK) & (masked[picked] != ids[picked])).sum())
    total = int(eligible.sum()) * 100  # about 100k eligible tokens
    assert chosen / total == pytest.approx(0.15, abs=0.005)
    # random words equal to the original or to [MASK] (1 / 500 each) blur the split by ~0.0002
    assert as_mask / chosen == pytest.approx(0.8, abs=0.01)
    assert kept / chosen == pytest.approx(0.1, abs=0.01)
    assert randomised / chosen == pytest.approx(0.1, abs=0.01)


def test_padding_from_the_attention_mask_or_the_pad_id():
    ids, mask = _batch(4, 16)
    everything = dict(probability=1.0, generator=torch.Generator().manual_seed(0))
    _, labels = _mask(ids, mask, **everything)
    eligible = (mask == 1) & ~torch.isin(ids, torch.tensor(SPECIAL))
    assert torch.equal(labels != -100, eligible)  # probability 1: every eligible token, nothing else
    # without an attention mask, [PAD] is excluded as a special id
    _, labels = mask_tokens_for_mlm(ids, None, SPECIAL, MASK, VOCAB, **everything)
    assert torch.equal(labels != -100, eligible)
    # a position that the attention mask calls padding is never chosen, whatever its id
    mask[:, 1] = 0
    _, labels = _mask(ids, mask, **everything)
    assert (labels[:, 1] == -100).all()
    _, labels = _mask(ids, mask, probability=0.0)
    assert (labels == -100).all()


def test_with_the_alpro_tokenizer(tmp_path):
    texts = ['a man plays the guitar on a stage', 'two dogs run']
    vocab = str(tmp_path / 'vocab.txt')
    size = write_vocab(vocab, texts)
    tokenizer = ALPROTokenizer(vocab, max_length=12)
    tokens = tokenizer(texts)
    masked, labels = mask_tokens_for_mlm(
        tokens['input_ids'],
        tokens['attention_mask'],
        tokenizer.all_special_ids,
        tokenizer.mask_token_id,
        tokenizer.vocab_size,
        probability=1.0)
    picked = labels != -100
    assert picked.sum() == 8 + 3  # the words, never [CLS], [SEP] or [PAD]
    assert ((masked[picked] >= 0) & (masked[picked] < size)).all()
    assert set(tokenizer.all_special_ids) >= {tokenizer.pad_token_id, tokenizer.mask_token_id}


def test_errors():
    ids, mask = _batch(2, 8)
    with pytest.raises(ValueError, match=r'\(B, L\) long'):
        _mask(ids[0], mask[0])
    with pytest.raises(ValueError, match=r'\(B, L\) long'):
        _mask(ids.float(), mask)
    with pytest.raises(ValueError, match='shape of input_ids'):
        _mask(ids, mask[:, :4])
    with pytest.raises(ValueError, match=r'probability must be in \[0, 1\]'):
        _mask(ids, mask, probability=1.5)
    with pytest.raises(ValueError, match='vocab_size'):
        mask_tokens_for_mlm(ids, mask, SPECIAL, MASK, 0)
