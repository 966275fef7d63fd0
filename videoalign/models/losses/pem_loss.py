"""ALPRO's prompting entity modelling (PEM) loss: soft cross-entropy against the prompter's entity distribution.

Official code (``salesforce/ALPRO`` ``src/modeling/alpro_models.py``):

.. code-block:: python

    # Prompter.get_pseudo_labels, under no_grad, the prompter in eval mode
    sim_masked = masked_image_feat @ prompt_feat.t() / self.temp          # the prompter's temp, not clamped
    pseudo_labels, ignore_masks = self._compute_soft_labels(sim_masked)

    # Prompter._compute_soft_labels
    soft_labels = nn.Softmax(dim=1)(sim_vp_masked)
    ignore_masks = torch.max(sim_vp_masked, dim=1)[1] < self.ignore_threshold   # ignore_threshold = 0.2

    # AlproForPretrain.compute_mpm_with_encoder_out (after pooling the student's box tokens, mpm_head)
    cross_entropy = -torch.sum(F.log_softmax(mpm_logits, dim=1) * soft_labels, dim=1)
    cross_entropy[ignore_masks] = 0.
    mpm_loss = torch.sum(cross_entropy) / (bsz - torch.sum(ignore_masks))

**The ignore rule.** The comment above ``ignore_threshold`` says "if the prob for the most likely entity is < 0.2, we
just ignore it" (the paper's rule), but ``torch.max(...)[1]`` is the *argmax index* of the *un-softmaxed* similarities:
``index < 0.2`` holds only for index 0, so the code ignores exactly the samples whose most similar entity is the first
one of the list, whatever the confidence, and almost never ignores anything. :func:`pem_pseudo_labels` offers both:

* ``'intended'`` (the default): ignore a sample whose top probability ``softmax(sim / temp).max()`` is below the
  threshold, as the comment and the paper describe. With this rule fewer samples may be kept than in the official
  runs (how many depends on the prompter's confidence).
* ``'official'``: the code's behaviour, bit for bit, for reproducing the released runs.

**All samples ignored.** The official division is then 0 / 0 = NaN. Here the loss is 0 (attached to the logits,
with a zero gradient): the sum of the kept cross-entropies is divided by ``max(B - #ignored, 1)``.

The soft labels are constants (computed without gradient and detached again here): the gradient flows only into the
student's logits.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.registry import MODELS

__all__ = ['PEMLoss', 'pem_pseudo_labels', 'pem_loss', 'IGNORE_RULES']

#: The ignore rules of :func:`pem_pseudo_labels`.
IGNORE_RULES = ('intended', 'official')


def _check_rule(ignore_rule: str, ignore_threshold: float) -> None:
    if ignore_rule not in IGNORE_RULES:
        raise ValueError(f'ignore_rule must be one of {IGNORE_RULES}, got {ignore_rule!r}')
    if not 0 <= ignore_threshold <= 1:
        raise ValueError(f'ignore_threshold must be a probability in [0, 1], got {ignore_threshold}')


def pem_pseudo_labels(sim: torch.Tensor,
                      temp: Union[torch.Tensor, float],
                      ignore_threshold: float = 0.2,
                      ignore_rule: str = 'intended') -> Tuple[torch.Tensor, torch.Tensor]:
    """The prompter's soft entity labels and the samples PEM ignores (see the module for the two rules).

    Computed without gradient, in float32.

    Args:
        sim (torch.Tensor): ``(B, K)`` similarities of the crops' video features to the ``K`` entity-prompt features
            (not divided by the temperature).
        temp (torch.Tensor | float): The prompter's temperature (a positive scalar).
        ignore_threshold (float): The threshold of the ignore rule. Defaults to 0.2.
        ignore_rule (str): ``'intended'``: ignore where ``softmax(sim / temp).max(dim=1) < ignore_threshold``;
            ``'official'``: ignore where ``argmax(sim / temp, dim=1) < ignore_threshold`` (the official code's bug:
            only the samples whose top entity is index 0). Defaults to ``'intended'``.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``soft_labels`` ``(B, K)`` float32, ``softmax(sim / temp)``, and
        ``ignore_mask`` ``(B,)`` bool, True for the ignored samples.

    Raises:
        ValueError: If ``sim`` is not 2-D or the rule or threshold is invalid.
    """
    if sim.dim() != 2 or sim.shape[1] == 0:
        raise ValueError(f'expected similarities (B, K), got shape {tuple(sim.shape)}')
    _check_rule(ignore_rule, ignore_threshold)
    with torch.no_grad():
        if isinstance(temp, torch.Tensor):
            temp = temp.detach().float().reshape(())
        logits = sim.detach().float() / temp
        soft_labels = F.softmax(logits, dim=1)
        if ignore_rule == 'intended':
            ignore_mask = soft_labels.max(dim=1).values < ignore_threshold
        else:
            ignore_mask = torch.max(logits, dim=1)[1] < ignore_threshold
    return soft_labels, ignore_mask


def pem_loss(logits: torch.Tensor,
             soft_labels: torch.Tensor,
             ignore_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``sum_i(-sum_k t_ik log_softmax(logits)_ik, i not ignored) / max(B - #ignored, 1)``.

    Args:
        logits (torch.Tensor): ``(B, K)`` the student's ``mpm_head`` logits.
        soft_labels (torch.Tensor): ``(B, K)`` the targets (detached here).
        ignore_mask (torch.Tensor, optional): ``(B,)`` bool, True for the samples left out. Defaults to None: none.

    Returns:
        torch.Tensor: The scalar loss (float32); 0 with a zero gradient when every sample is ignored.

    Raises:
        ValueError: If the shapes do not match.
    """
    if logits.dim() != 2 or logits.shape != soft_labels.shape:
        raise ValueError(f'expected logits and soft_labels of the same shape (B, K), got {tuple(logits.shape)} and '
                         f'{tuple(soft_labels.shape)}')
    batch = logits.shape[0]
    if ignore_mask is None:
        ignore_mask = torch.zeros(batch, dtype=torch.bool, device=logits.device)
    if ignore_mask.shape != (batch, ):
        raise ValueError(f'expected ignore_mask of shape ({batch},), got {tuple(ignore_mask.shape)}')
    ignore_mask = ignore_mask.to(device=logits.device, dtype=torch.bool)
    cross_entropy = -(soft_labels.detach().float() * F.log_softmax(logits.float(), dim=1)).sum(dim=1)
    cross_entropy = cross_entropy.masked_fill(ignore_mask, 0.)
    kept = (batch - ignore_mask.sum()).clamp(min=1)
    return cross_entropy.sum() / kept


@MODELS.register_module()
class PEMLoss(nn.Module):
    """ALPRO's PEM loss, with the prompter's pseudo-labels (:meth:`pseudo_labels`) and their ignore rule.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0 (ALPRO sums its losses unweighted).
        ignore_threshold (float): Threshold of the ignore rule. Defaults to 0.2 (the official value).
        ignore_rule (str): ``'intended'`` (the paper's rule: the top entity probability below the threshold) or
            ``'official'`` (the code's rule: the top entity's index below the threshold, i.e. index 0; see the
            module). Defaults to ``'intended'``: the official rule almost never ignores a sample, which the comment in
            the official code and the paper do not mean.
    """

    def __init__(self, loss_weight: float = 1.0, ignore_threshold: float = 0.2, ignore_rule: str = 'intended') -> None:
        super().__init__()
        _check_rule(ignore_rule, ignore_threshold)
        self.loss_weight = loss_weight
        self.ignore_threshold = ignore_threshold
        self.ignore_rule = ignore_rule

    def pseudo_labels(self, sim: torch.Tensor, temp: Union[torch.Tensor, float]) -> Tuple[torch.Tensor, torch.Tensor]:
        """:func:`pem_pseudo_labels` with this loss's threshold and rule.

        Args:
            sim (torch.Tensor): ``(B, K)`` crop-to-prompt similarities.
            temp (torch.Tensor | float): The prompter's temperature.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: ``soft_labels`` ``(B, K)`` and ``ignore_mask`` ``(B,)``.
        """
        return pem_pseudo_labels(sim, temp, self.ignore_threshold, self.ignore_rule)

    def forward(self,
                logits: torch.Tensor,
                soft_labels: torch.Tensor,
                ignore_mask: Optional[torch.Tensor] = None,
                return_accuracy: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Compute the loss (:func:`pem_loss`).

        Args:
            logits (torch.Tensor): ``(B, K)`` the student's entity logits.
            soft_labels (torch.Tensor): ``(B, K)`` the prompter's soft labels.
            ignore_mask (torch.Tensor, optional): ``(B,)`` bool, the ignored samples. Defaults to None: none.
            return_accuracy (bool): Also return the official ``mpm_acc`` (detached): the fraction of **all** samples,
                ignored ones included, whose top logit is the top soft label. Defaults to False.

        Returns:
            torch.Tensor | tuple[torch.Tensor, torch.Tensor]: The weighted scalar loss, and the accuracy if asked.
        """
        loss = self.loss_weight * pem_loss(logits, soft_labels, ignore_mask)
        if return_accuracy:
            accuracy = (logits.detach().argmax(dim=1) == soft_labels.detach().argmax(dim=1)).float().mean()
            return loss, accuracy
        return loss

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, ignore_threshold={self.ignore_threshold}, '
                f'ignore_rule={self.ignore_rule!r}')
