"""ALPRO's video-text matching (VTM) loss, with one hard negative per video and per text from the VTC similarities.

Official code (``salesforce/ALPRO`` ``AlproForPretrain.compute_vtm``):

.. code-block:: python

    with torch.no_grad():
        weights_i2t = sim_v2t[:, b_start:b_end]          # the local block (of a clone of the VTC logits)
        weights_t2i = sim_t2v[:, b_start:b_end]
        weights_i2t.fill_diagonal_(-np.Inf)              # never select self as negative
        weights_t2i.fill_diagonal_(-np.Inf)
        weights_i2t = F.softmax(weights_i2t, dim=1)      # no epsilon added (ALBEF's +1e-4 is not there)
        weights_t2i = F.softmax(weights_t2i, dim=1)
    # for each text b: video_embeds_neg[b] = video_embeds[multinomial(weights_t2i[b], 1)]
    # for each video b: text_embeds_neg[b] = text_embeds[multinomial(weights_i2t[b], 1)]
    text_embeds_all = cat([text_embeds, text_embeds_neg])
    video_embeds_all = cat([video_embeds_neg, video_embeds])
    vl_embeddings = cat([fusion_cls(positives), fusion_cls(text_embeds_all, video_embeds_all)])
    vtm_logits = itm_head(vl_embeddings)
    vtm_labels = cat([ones(bs), zeros(2 * bs)])
    vtm_loss = F.cross_entropy(vtm_logits, vtm_labels)

The ``itm_head`` (``Linear(768, 2)``) and the fusion encoder stay in the model; :func:`vtm_pair_indices` gives the
(text, video) index of each of the ``3B`` rows in this order, and :class:`VTMLoss` takes the logits.
"""
from typing import NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.registry import MODELS


class HardNegatives(NamedTuple):
    """One hard negative per text and per video of the local batch.

    Attributes:
        video_for_text (torch.Tensor): ``(B,)`` long: the negative video of text ``i`` (drawn from ``sim_t2v[i]``).
        text_for_video (torch.Tensor): ``(B,)`` long: the negative text of video ``i`` (drawn from ``sim_v2t[i]``).
    """
    video_for_text: torch.Tensor
    text_for_video: torch.Tensor


def _negative_weights(sim: torch.Tensor) -> torch.Tensor:
    """Softmax over the row with the diagonal at -inf (so weight 0), computed in float32 on a detached copy."""
    weights = sim.detach().float().clone()
    weights.fill_diagonal_(float('-inf'))
    return F.softmax(weights, dim=1)


def sample_hard_negatives(sim_v2t: torch.Tensor,
                          sim_t2v: torch.Tensor,
                          generator: Optional[torch.Generator] = None) -> HardNegatives:
    """Draw one negative per row by ``multinomial(softmax(sim))`` over the local batch, never the row's own pair.

    As ALPRO's ``compute_vtm``: the logits of the **local** block (``VTCSimilarities.local_v2t`` / ``local_t2v``), the
    diagonal set to -inf before the softmax, no epsilon. The video negatives are drawn first, as in the official code.
    The inputs are not modified and no gradient flows.

    Args:
        sim_v2t (torch.Tensor): ``(B, B)`` video-to-text logits of the local batch; row ``i`` gives the weights of the
            negative text of video ``i``.
        sim_t2v (torch.Tensor): ``(B, B)`` text-to-video logits; row ``i`` gives the weights of the negative video of
            text ``i``.
        generator (torch.Generator, optional): The random generator, on the device of the similarities. Defaults to
            None: the global one.

    Returns:
        HardNegatives: The indices ``video_for_text`` and ``text_for_video``, each ``(B,)``.
    """
    if sim_v2t.dim() != 2 or sim_v2t.shape[0] != sim_v2t.shape[1] or sim_t2v.shape != sim_v2t.shape:
        raise ValueError('expected two square (B, B) similarity matrices of the local batch, got '
                         f'{tuple(sim_v2t.shape)} and {tuple(sim_t2v.shape)}')
    if sim_v2t.shape[0] < 2:
        raise ValueError(f'hard negatives need a local batch of at least 2 pairs, got {sim_v2t.shape[0]}')
    with torch.no_grad():
        weights_v2t = _negative_weights(sim_v2t)
        weights_t2v = _negative_weights(sim_t2v)
        video_for_text = torch.multinomial(weights_t2v, 1, generator=generator).squeeze(1)
        text_for_video = torch.multinomial(weights_v2t, 1, generator=generator).squeeze(1)
    return HardNegatives(video_for_text, text_for_video)


def vtm_pair_indices(negatives: HardNegatives) -> Tuple[torch.Tensor, torch.Tensor]:
    """The (text, video) indices of the ``3B`` VTM pairs in ALPRO's order: the ``B`` positives, then each text with
    its negative video, then each video with its negative text.

    Args:
        negatives (HardNegatives): The output of :func:`sample_hard_negatives`.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``text_idx`` and ``video_idx``, each ``(3B,)``; row ``k`` of the fusion
        input pairs text ``text_idx[k]`` with video ``video_idx[k]``, labelled as :func:`vtm_labels`.
    """
    video_for_text, text_for_video = negatives
    arange = torch.arange(video_for_text.shape[0], device=video_for_text.device)
    text_idx = torch.cat([arange, arange, text_for_video])
    video_idx = torch.cat([arange, video_for_text, arange])
    return text_idx, video_idx


def vtm_labels(batch_size: int, device: Optional[Union[torch.device, str]] = None) -> torch.Tensor:
    """ALPRO's VTM labels: ``[1] * B + [0] * 2B`` (matched, then the two blocks of negatives).

    Args:
        batch_size (int): ``B``, the number of positive pairs.
        device (torch.device | str, optional): The device. Defaults to None: the CPU.

    Returns:
        torch.Tensor: ``(3B,)`` long.
    """
    return torch.cat([
        torch.ones(batch_size, dtype=torch.long, device=device),
        torch.zeros(2 * batch_size, dtype=torch.long, device=device)
    ])


@MODELS.register_module()
class VTMLoss(nn.Module):
    """ALPRO's video-text matching loss: cross-entropy of the ``itm_head`` logits of ``B`` positive pairs followed by
    ``2B`` hard-negative pairs (see :func:`vtm_pair_indices`), labels ``[1] * B + [0] * 2B``.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0 (ALPRO sums its losses unweighted).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                logits: torch.Tensor,
                return_accuracy: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Compute the loss.

        Args:
            logits (torch.Tensor): ``(3B, 2)`` ``itm_head`` logits: the positives, then the negatives.
            return_accuracy (bool): Also return the accuracy (a detached fraction in [0, 1]) for logging. Defaults to
                False.

        Returns:
            torch.Tensor | tuple[torch.Tensor, torch.Tensor]: The weighted scalar loss, and the accuracy if asked.
        """
        if logits.dim() != 2 or logits.shape[1] != 2 or logits.shape[0] == 0 or logits.shape[0] % 3 != 0:
            raise ValueError(f'expected (3B, 2) logits of B positive and 2B negative pairs, got {tuple(logits.shape)}')
        labels = vtm_labels(logits.shape[0] // 3, logits.device)
        loss = self.loss_weight * F.cross_entropy(logits, labels)
        if return_accuracy:
            accuracy = (logits.detach().argmax(dim=1) == labels).float().mean()
            return loss, accuracy
        return loss

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
