"""BERT's masking of text tokens for masked language modelling (MLM), as ALPRO does it.

Official code (``salesforce/ALPRO`` ``src/datasets/data_utils.py`` ``mask_batch_text_tokens``, called by
``PretrainCollator`` with ``mlm_probability=0.15``; modified from transformers' ``DataCollatorForLanguageModeling``):

.. code-block:: python

    labels = inputs.clone()
    probability_matrix = torch.full(labels.shape, mlm_probability)
    special_tokens_mask = [tokenizer.get_special_tokens_mask(val, already_has_special_tokens=True)
                           for val in labels.tolist()]
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

:func:`mask_tokens_for_mlm` makes the same four random draws, of the same shapes and in the same order, so with the
same generator state it returns the same ids and labels. Its differences: it does not modify ``input_ids`` (the
official function writes into its argument; the collator passes a copy), it takes the ids it needs instead of the
tokenizer, and padding is read from ``attention_mask`` as well as from the special ids (``[PAD]`` is one of them).
As in the official code (and BERT), the random replacement word is drawn from the whole vocabulary, special tokens
included, and the official ``is_train`` argument does nothing (the masking is random in validation too).
"""
from typing import Iterable, Optional, Tuple

import torch

__all__ = ['mask_tokens_for_mlm', 'MLM_IGNORE_INDEX']

#: The label of the positions that are not predicted (``CrossEntropyLoss``'s default ``ignore_index``).
MLM_IGNORE_INDEX = -100


def mask_tokens_for_mlm(input_ids: torch.Tensor,
                        attention_mask: Optional[torch.Tensor],
                        special_ids: Iterable[int],
                        mask_token_id: int,
                        vocab_size: int,
                        probability: float = 0.15,
                        generator: Optional[torch.Generator] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Choose the MLM positions and corrupt them as BERT (and ALPRO) do.

    Each token that is neither special nor padding is chosen with probability ``probability``. A chosen token becomes
    ``[MASK]`` with probability 0.8, a random word piece of ``[0, vocab_size)`` with probability 0.1 (0.5 of the
    remaining 0.2) and stays unchanged otherwise; its label is its original id. Every other position has the label
    -100 and keeps its id.

    Args:
        input_ids (torch.Tensor): Token ids ``(B, L)`` (long), already padded.
        attention_mask (torch.Tensor, optional): ``(B, L)``, 0 on padding (never chosen). None means that padding is
            told only by its id being in ``special_ids``.
        special_ids (Iterable[int]): Ids never chosen (the tokenizer's ``all_special_ids``: ``[PAD]``, ``[UNK]``,
            ``[CLS]``, ``[SEP]``, ``[MASK]``).
        mask_token_id (int): Id of ``[MASK]``.
        vocab_size (int): Size of the vocabulary the random words are drawn from (``len(tokenizer)``).
        probability (float): Probability of choosing an eligible token, in ``[0, 1]``. Defaults to 0.15.
        generator (torch.Generator, optional): The random generator, on the device of ``input_ids``. Defaults to None:
            the global one (as the official code).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``masked_ids`` (a new tensor, the corrupted ids) and ``labels`` (the
        original id at the chosen positions, -100 elsewhere), both ``(B, L)`` long.

    Raises:
        ValueError: If the shapes, ``probability`` or ``vocab_size`` are invalid.
    """
    if input_ids.dim() != 2 or input_ids.dtype != torch.long:
        raise ValueError(f'input_ids must be a (B, L) long tensor, got {input_ids.dtype} of shape '
                         f'{tuple(input_ids.shape)}')
    if attention_mask is not None and attention_mask.shape != input_ids.shape:
        raise ValueError(f'attention_mask {tuple(attention_mask.shape)} must have the shape of input_ids '
                         f'{tuple(input_ids.shape)}')
    if not 0 <= probability <= 1:
        raise ValueError(f'probability must be in [0, 1], got {probability}')
    if vocab_size < 1:
        raise ValueError(f'vocab_size must be at least 1, got {vocab_size}')
    device = input_ids.device
    special = torch.as_tensor(sorted({int(i) for i in special_ids}), dtype=torch.long, device=device)
    never = torch.isin(input_ids, special)
    if attention_mask is not None:
        never |= attention_mask == 0

    labels = input_ids.clone()
    probability_matrix = torch.full(input_ids.shape, float(probability), device=device).masked_fill_(never, 0.0)
    chosen = torch.bernoulli(probability_matrix, generator=generator).bool()
    labels[~chosen] = MLM_IGNORE_INDEX

    masked_ids = input_ids.clone()
    replaced = torch.bernoulli(torch.full(input_ids.shape, 0.8, device=device), generator=generator).bool() & chosen
    masked_ids[replaced] = mask_token_id
    randomised = torch.bernoulli(
        torch.full(input_ids.shape, 0.5, device=device), generator=generator).bool() & chosen & ~replaced
    random_words = torch.randint(
        vocab_size, tuple(input_ids.shape), dtype=torch.long, device=device, generator=generator)
    masked_ids[randomised] = random_words[randomised]
    return masked_ids, labels
