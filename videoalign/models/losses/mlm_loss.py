"""ALPRO's masked language modelling (MLM) loss: cross-entropy over the vocabulary on the masked text positions.

Official code (``salesforce/ALPRO`` ``AlproForPretrain.compute_mlm``; the masking is
:func:`~videoalign.models.text.mlm_masking.mask_tokens_for_mlm`):

.. code-block:: python

    txt_output = encoder_outputs.last_hidden_state[:, :txt_len]     # the text part of the fused states
    mlm_logits = self.text_encoder.cls(txt_output)
    loss_fct = CrossEntropyLoss()                                   # ignore_index=-100, mean over the kept tokens
    mlm_loss = loss_fct(mlm_logits.view(-1, self.bert_config.vocab_size), mlm_labels.view(-1))

and the logged accuracy (``run_pretrain_sparse.py``): ``mlm_scores[mlm_mask].max(dim=-1)[1] == mlm_labels[mlm_mask]``
over the ``mlm_mask = mlm_labels != -100`` tokens.

One difference, on purpose: a batch with no masked token (possible with few, short captions) gives a loss of 0 (still
attached to the logits, with a zero gradient) and an accuracy of 0, where ``CrossEntropyLoss`` gives NaN (0 / 0) and
the official accuracy divides by zero.
"""
from typing import Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.registry import MODELS

#: Labels of the positions that are not predicted.
IGNORE_INDEX = -100


@MODELS.register_module()
class MLMLoss(nn.Module):
    """Cross-entropy of the MLM head's logits on the masked positions (labels other than -100), averaged over them.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0 (ALPRO sums its losses unweighted).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                logits: torch.Tensor,
                labels: torch.Tensor,
                return_accuracy: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Compute the loss.

        Args:
            logits (torch.Tensor): ``(..., V)`` scores over the vocabulary, e.g. ``(B, L, V)`` for the text positions.
            labels (torch.Tensor): ``(...)`` long: the original token id at the masked positions, -100 elsewhere.
            return_accuracy (bool): Also return the fraction of masked tokens whose top score is the label (detached,
                for logging). Defaults to False.

        Returns:
            torch.Tensor | tuple[torch.Tensor, torch.Tensor]: The weighted scalar loss (float32), and the accuracy if
            asked.

        Raises:
            ValueError: If the shapes do not match.
        """
        if logits.dim() < 2 or logits.shape[:-1] != labels.shape:
            raise ValueError(f'expected logits (..., V) and labels (...) with the same leading shape, got '
                             f'{tuple(logits.shape)} and {tuple(labels.shape)}')
        labels = labels.reshape(-1)
        kept = labels != IGNORE_INDEX
        scores = logits.reshape(-1, logits.shape[-1])[kept].float()
        targets = labels[kept]
        count = targets.numel()
        loss = F.cross_entropy(scores, targets, reduction='sum') / max(count, 1)
        loss = self.loss_weight * loss
        if return_accuracy:
            correct = (scores.detach().argmax(dim=-1) == targets).sum().float()
            return loss, correct / max(count, 1)
        return loss

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
