"""A tiny ALPRO for tests and CPU runs: a 2-layer TimeSformer on 32 px clips and a 2 + 2-layer BERT, width 32."""
import copy
import re
from typing import Iterable, List

#: BERT's special tokens at BERT's ids: [PAD]=0, [unused0..98]=1..99, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103.
SPECIAL_TOKENS = ['[PAD]'] + [f'[unused{i}]' for i in range(99)] + ['[UNK]', '[CLS]', '[SEP]', '[MASK]']


def vocab_lines(texts: Iterable[str]) -> List[str]:
    """A WordPiece vocabulary covering ``texts``: the special tokens, then every lower-cased word and punctuation
    mark, sorted (whole words only, so nothing maps to ``[UNK]``)."""
    words = set()
    for text in texts:
        words.update(re.findall(r"\w+|[^\w\s]", text.lower()))
    return SPECIAL_TOKENS + sorted(words)


def write_vocab(path: str, texts: Iterable[str]) -> int:
    """Write :func:`vocab_lines` of ``texts`` to ``path``; return the vocabulary size."""
    lines = vocab_lines(texts)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)


#: TimeSformer: 32 px frames of 8 px patches (a 4 x 4 grid: 1 + 16 video tokens), 2 layers of width 32.
TINY_ALPRO_VISUAL = dict(
    type='ALPROTimeSformer',
    num_frames=4,
    img_size=32,
    patch_size=8,
    embed_dims=32,
    num_heads=2,
    num_transformer_layers=2,
    drop_path_rate=0.)


def tiny_alpro_text_encoder(vocab_size: int) -> dict:
    """BERT of width 32: layers 0-1 encode the text, 2-3 fuse ``[text ; video]``."""
    return dict(
        type='ALPROBert',
        config=dict(
            vocab_size=vocab_size,
            hidden_size=32,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64),
        fusion_layer=2)


def tiny_alpro_retrieval(vocab: str, vocab_size: int, max_length: int = 16, **overrides) -> dict:
    """The config of a tiny :class:`~videoalign.models.algorithms.AlproRetrieval`.

    Args:
        vocab (str): The ``vocab.txt`` of the tokenizer.
        vocab_size (int): Its size (the text encoder's vocabulary).
        max_length (int): Text length. Defaults to 16.
        **overrides: Top-level fields that replace the defaults (e.g. ``embed_dim``, ``inference``).

    Returns:
        dict: The model config.
    """
    cfg = dict(
        type='AlproRetrieval',
        visual_encoder=TINY_ALPRO_VISUAL,
        text_encoder=tiny_alpro_text_encoder(vocab_size),
        tokenizer=dict(type='ALPROTokenizer', vocab=vocab, max_length=max_length),
        embed_dim=16)
    cfg.update(overrides)
    return copy.deepcopy(cfg)


#: A test pipeline for :data:`TINY_ALPRO_VISUAL`: 4 frames at 32 px.
TINY_ALPRO_TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


def write_tiny_alpro_config(path: str, vocab: str, vocab_size: int, **overrides) -> str:
    """Write a config file of :func:`tiny_alpro_retrieval` with :data:`TINY_ALPRO_TEST_PIPELINE` as its test pipeline
    (what ``init_model`` and the search tools read); return ``path``."""
    model = tiny_alpro_retrieval(vocab, vocab_size, **overrides)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(f"default_scope = 'videoalign'\nmodel = {model!r}\ntest_pipeline = {TINY_ALPRO_TEST_PIPELINE!r}\n"
                'test_dataloader = dict(dataset=dict(pipeline=test_pipeline))\n')
    return path
