"""BERT's WordPiece tokenizer from a local vocabulary, as ALPRO uses it (its model: ``alpro_bert.py``).

transformers is imported when the tokenizer is built, not when this module is imported (it is slow to import).
"""
import logging
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from videoalign.registry import TOKENIZERS


@TOKENIZERS.register_module()
class ALPROTokenizer:
    """BERT's WordPiece tokenizer (transformers ``BertTokenizer``) read from a local vocabulary, as ALPRO uses it.

    A text becomes ``[CLS] + pieces + [SEP]``, cut to ``max_length`` (the pieces are cut, ``[SEP]`` is kept) and
    right-padded with ``[PAD]`` to ``max_length``: the same ids as ALPRO's
    ``batch_encode_plus(texts, max_length=max_length, padding='max_length', truncation=True)``. Texts are
    lower-cased (and accents stripped) when ``do_lower_case`` is True (``bert-base-uncased``). A warning names each
    text cut this way (once per text). ALPRO's lengths: 30 for pretraining, 40 for MSR-VTT, 50 for DiDeMo, 15 for
    the entity prompts.

    Args:
        vocab (str): A ``vocab.txt`` (one word piece per line, the line number is the id) or a folder holding one
            (and optionally ``tokenizer_config.json``), or a model-zoo name such as
            ``'videoalign://bert-base-uncased/vocab'`` (downloaded once into the hub cache).
        max_length (int): Default length of the rows. Defaults to 40.
        do_lower_case (bool): Lower-case and strip accents (uncased BERT). Ignored for a folder with a
            ``tokenizer_config.json``, which decides. Defaults to True.
    """

    def __init__(self, vocab: str, max_length: int = 40, do_lower_case: bool = True) -> None:
        from transformers import BertTokenizer
        if max_length < 2:
            raise ValueError(f'max_length must hold at least [CLS] and [SEP], got {max_length}')
        if '://' in vocab:  # a model-zoo file (videoalign://bert-base-uncased/vocab), fetched through its backend
            with get_local_path(vocab) as local:
                vocab = local
        if osp.isdir(vocab):
            vocab_file = osp.join(vocab, 'vocab.txt')
            if not osp.isfile(vocab_file):
                raise FileNotFoundError(f'no vocab.txt in the folder {vocab!r}')
            if osp.isfile(osp.join(vocab, 'tokenizer_config.json')):
                tokenizer = BertTokenizer.from_pretrained(vocab, local_files_only=True)
            else:
                tokenizer = BertTokenizer.from_pretrained(vocab, local_files_only=True, do_lower_case=do_lower_case)
        elif osp.isfile(vocab):
            vocab_file = vocab
            # transformers 4.x: the file is the first argument. (5.x ignores ``vocab_file=``; the check below
            # catches a tokenizer that did not read the file.)
            tokenizer = BertTokenizer(vocab_file, do_lower_case=do_lower_case)
        else:
            raise FileNotFoundError(f'vocab must be a local vocab.txt or a folder holding one, got {vocab!r}')
        with open(vocab_file, encoding='utf-8') as f:
            num_lines = sum(1 for _ in f)
        if len(tokenizer.vocab) != num_lines:
            raise RuntimeError(f'BertTokenizer read {len(tokenizer.vocab)} word pieces from {vocab_file!r}, which has '
                               f'{num_lines} lines (duplicate lines, or a transformers version that ignores the file)')
        missing = [token for token in ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]') if token not in tokenizer.vocab]
        if missing:
            raise ValueError(f'the vocabulary {vocab_file!r} lacks the special tokens {missing}')
        self.tokenizer = tokenizer  # transformers.BertTokenizer
        self.vocab_file = vocab_file
        self.max_length = max_length
        self._truncated: set = set()  # texts already reported as cut

    @property
    def vocab_size(self) -> int:
        """Number of word pieces, special tokens included."""
        return len(self.tokenizer.vocab)

    @property
    def pad_token_id(self) -> int:
        """Id of ``[PAD]`` (0 in BERT's vocabulary)."""
        return self.tokenizer.pad_token_id

    @property
    def unk_token_id(self) -> int:
        """Id of ``[UNK]`` (100 in BERT's vocabulary)."""
        return self.tokenizer.unk_token_id

    @property
    def cls_token_id(self) -> int:
        """Id of ``[CLS]`` (101 in BERT's vocabulary)."""
        return self.tokenizer.cls_token_id

    @property
    def sep_token_id(self) -> int:
        """Id of ``[SEP]`` (102 in BERT's vocabulary)."""
        return self.tokenizer.sep_token_id

    @property
    def mask_token_id(self) -> int:
        """Id of ``[MASK]`` (103 in BERT's vocabulary)."""
        return self.tokenizer.mask_token_id

    @property
    def all_special_ids(self) -> List[int]:
        """Ids of the special tokens (never masked by MLM)."""
        return list(self.tokenizer.all_special_ids)

    def encode(self, text: str) -> List[int]:
        """Word-piece ids of ``text``, without ``[CLS]``/``[SEP]`` and without truncation."""
        return self.tokenizer.convert_tokens_to_ids(self.tokenizer.tokenize(text))

    def decode(self, token_ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """The text of token ids (word pieces joined, ``##`` removed).

        Args:
            token_ids (Sequence[int]): The ids (a list or a 1-D tensor).
            skip_special_tokens (bool): Leave out ``[PAD]``, ``[CLS]``, ``[SEP]`` etc. Defaults to True.

        Returns:
            str: The text.
        """
        return self.tokenizer.decode([int(i) for i in token_ids], skip_special_tokens=skip_special_tokens)

    def __call__(self, texts: Union[str, Sequence[str]], max_length: Optional[int] = None) -> Dict[str, torch.Tensor]:
        """Tokenize one text or a list of texts.

        Args:
            texts (str | Sequence[str]): The text(s).
            max_length (int, optional): Length of each row; None means ``self.max_length``. Defaults to None.

        Returns:
            dict[str, torch.Tensor]: ``input_ids`` (LongTensor ``(N, max_length)``, padded with ``[PAD]``) and
            ``attention_mask`` (LongTensor ``(N, max_length)``, 1 on ``[CLS]``, the pieces and ``[SEP]``, 0 on
            padding); ``N = len(texts)``, or 1 for a single str.
        """
        if isinstance(texts, str):
            texts = [texts]
        max_length = self.max_length if max_length is None else max_length
        if max_length < 2:
            raise ValueError(f'max_length must hold at least [CLS] and [SEP], got {max_length}')
        input_ids = torch.full((len(texts), max_length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(len(texts), max_length, dtype=torch.long)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f'texts must be str, got {type(text).__name__} at index {row}')
            pieces = self.encode(text)
            if len(pieces) > max_length - 2 and text not in self._truncated:
                self._truncated.add(text)
                print_log(
                    f'text cut to {max_length - 2} of its {len(pieces)} word pieces (max length {max_length}): '
                    f'{text!r}',
                    logger='current',
                    level=logging.WARNING)
            ids = [self.cls_token_id] + pieces[:max_length - 2] + [self.sep_token_id]
            input_ids[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, :len(ids)] = 1
        return dict(input_ids=input_ids, attention_mask=attention_mask)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(vocab={os.fspath(self.vocab_file)!r}, max_length={self.max_length}, '
                f'vocab_size={self.vocab_size})')
