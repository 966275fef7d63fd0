"""ALPRO's video-text contrastive (VTC) loss, with the features of all ranks gathered with their gradients.

Official code (``salesforce/ALPRO`` ``AlproForPretrain.forward``, the same in ``AlproForVideoTextRetrieval``):

.. code-block:: python

    with torch.no_grad():
        self.temp.clamp_(0.001, 0.5)              # at the start of every forward
    ...
    gathered_video_feats = hvd.allgather(video_feat)
    gathered_text_feats = hvd.allgather(text_feat)
    sim_v2t = video_feat @ gathered_text_feats.t() / self.temp
    sim_t2v = text_feat @ gathered_video_feats.t() / self.temp
    sim_targets = torch.zeros_like(sim_v2t)
    sim_targets[:, b * local_rank: b * (local_rank + 1)] = torch.eye(b)
    loss_v2t = -torch.sum(F.log_softmax(sim_v2t, dim=1) * sim_targets, dim=1).mean()
    loss_t2v = -torch.sum(F.log_softmax(sim_t2v, dim=1) * sim_targets, dim=1).mean()
    vtc_loss = (loss_v2t + loss_t2v) / 2

Differences, on purpose:

- The targets are offset by the **global** rank (the official ``hvd.local_rank()`` is only right on one node), and by
  the sizes of the preceding ranks' batches, so unequal local batches are handled too (``rank * B`` when equal).
- The one-hot soft-target CE is computed as ``F.cross_entropy`` with integer targets (the same value; no label
  smoothing in ALPRO).
- The similarities come from :func:`~videoalign.models.layers.scaled_cosine_similarity`, which L2-normalises both sides
  again: a no-op on ALPRO's already-normalised features (and the same gradient w.r.t. the pre-normalisation features).

Gradients: like ``hvd.allgather``, the gather's backward sums the gradients of every rank's copy and returns this
rank's slice, so a rank's feature gradient is that of the **sum** of all ranks' losses. With the gradient averaging of
``DistributedDataParallel`` (and equal local batches) the parameters get the gradient of the loss of the
concatenated batch.
"""
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from videoalign.models.layers.similarity import scaled_cosine_similarity
from videoalign.registry import MODELS

#: ALPRO's bounds of the learnable temperature (initialised at 0.07).
TEMP_MIN = 0.001
TEMP_MAX = 0.5


def clamp_temperature_(temp: torch.Tensor, min: float = TEMP_MIN, max: float = TEMP_MAX) -> torch.Tensor:
    """Clamp a learnable temperature in place, outside autograd, as ALPRO does at the start of every forward.

    Call it first in the model's ``forward`` (before the temperature is used anywhere), as the official
    ``with torch.no_grad(): self.temp.clamp_(0.001, 0.5)``.

    Args:
        temp (torch.Tensor): The temperature, usually an ``nn.Parameter`` of the model (a scalar).
        min (float): Lower bound. Defaults to 0.001.
        max (float): Upper bound. Defaults to 0.5.

    Returns:
        torch.Tensor: ``temp`` itself, clamped.
    """
    if not isinstance(temp, torch.Tensor):
        raise TypeError(f'temp must be a tensor (an nn.Parameter) to be clamped in place, got {type(temp).__name__}')
    if not 0 < min <= max:
        raise ValueError(f'expected 0 < min <= max, got min={min}, max={max}')
    with torch.no_grad():
        temp.clamp_(min, max)
    return temp


def _distributed_world(group: Optional[object]) -> Tuple[int, int]:
    """``(rank, world_size)`` in ``group``, ``(0, 1)`` when torch.distributed is not initialised."""
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group=group), dist.get_world_size(group=group)


def _gather_batch_sizes(size: int, device: torch.device, group: Optional[object]) -> Tuple[int, ...]:
    """The local batch size of every rank of ``group``."""
    _, world_size = _distributed_world(group)
    local = torch.tensor([size], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(local) for _ in range(world_size)]
    dist.all_gather(sizes, local, group=group)
    return tuple(int(s.item()) for s in sizes)


class _AllGatherWithGrad(torch.autograd.Function):
    """All-gather along the first axis (local sizes may differ), the backward as ``hvd.allgather``'s: the gradients
    of all ranks' copies are summed (all-reduce, which gloo supports) and this rank's slice is returned."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, sizes: Tuple[int, ...], group: Optional[object]) -> torch.Tensor:
        rank = dist.get_rank(group=group)
        ctx.sizes, ctx.rank, ctx.group = sizes, rank, group
        tensor = tensor.contiguous()
        max_size = max(sizes)
        if tensor.shape[0] < max_size:
            pad = tensor.new_zeros((max_size - tensor.shape[0], ) + tuple(tensor.shape[1:]))
            tensor = torch.cat([tensor, pad])
        buffers = [torch.empty_like(tensor) for _ in sizes]
        dist.all_gather(buffers, tensor, group=group)
        return torch.cat([buf[:size] for buf, size in zip(buffers, sizes)])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> Tuple[torch.Tensor, None, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        start = sum(ctx.sizes[:ctx.rank])
        return grad[start:start + ctx.sizes[ctx.rank]], None, None


def all_gather_with_grad(tensor: torch.Tensor,
                         sizes: Optional[Sequence[int]] = None,
                         group: Optional[object] = None) -> torch.Tensor:
    """Concatenate ``tensor`` of all ranks along the first axis (in rank order), differentiably.

    The backward sums the gradients of all ranks' copies (``hvd.allgather``'s semantics). It is a collective: every
    rank of ``group`` must call it (and run the backward, if any rank does). Without torch.distributed, or in a
    one-rank world, ``tensor`` is returned as it is.

    Args:
        tensor (torch.Tensor): The local tensor ``(n_r, ...)``; the other axes must be equal on all ranks.
        sizes (Sequence[int], optional): ``n_r`` of every rank, if known (saves a collective). Defaults to None:
            gathered.
        group (optional): The process group. Defaults to None: the default group.

    Returns:
        torch.Tensor: ``(sum_r n_r, ...)``.
    """
    _, world_size = _distributed_world(group)
    if world_size == 1:
        return tensor
    if sizes is None:
        sizes = _gather_batch_sizes(tensor.shape[0], tensor.device, group)
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) != world_size:
        raise ValueError(f'expected {world_size} sizes, one per rank, got {sizes}')
    return _AllGatherWithGrad.apply(tensor, sizes, group)


class VTCSimilarities(NamedTuple):
    """The VTC logits of the local rows against the gathered columns.

    Attributes:
        sim_v2t (torch.Tensor): ``(B, N)``: local videos against the texts of all ranks, divided by the temperature.
        sim_t2v (torch.Tensor): ``(B, N)``: local texts against the videos of all ranks.
        offset (int): The column of this rank's first pair (``rank * B`` with equal local batches): row ``i``
            matches column ``offset + i``.
    """
    sim_v2t: torch.Tensor
    sim_t2v: torch.Tensor
    offset: int

    @property
    def local_v2t(self) -> torch.Tensor:
        """``(B, B)``: the block of the local batch of ``sim_v2t`` (what VTM's hard negatives are drawn from)."""
        return self.sim_v2t[:, self.offset:self.offset + self.sim_v2t.shape[0]]

    @property
    def local_t2v(self) -> torch.Tensor:
        """``(B, B)``: the block of the local batch of ``sim_t2v``."""
        return self.sim_t2v[:, self.offset:self.offset + self.sim_t2v.shape[0]]


def vtc_similarities(video_feat: torch.Tensor,
                     text_feat: torch.Tensor,
                     temp: Union[torch.Tensor, float],
                     gather: bool = True,
                     group: Optional[object] = None) -> VTCSimilarities:
    """``v @ all_t^T / temp`` and ``t @ all_v^T / temp``, the features of all ranks gathered with their gradients.

    Args:
        video_feat (torch.Tensor): Local video features ``(B, D)`` (ALPRO: ``normalize(vision_proj(cls))``, D=256).
        text_feat (torch.Tensor): Local text features ``(B, D)``, row ``i`` paired with video ``i``.
        temp (torch.Tensor | float): The temperature (a positive scalar; a parameter gets its gradient).
        gather (bool): Gather the features of all ranks when torch.distributed is initialised. Defaults to True.
        group (optional): The process group. Defaults to None: the default group.

    Returns:
        VTCSimilarities: The ``(B, N)`` logits and the offset of the local pairs among the ``N`` columns.
    """
    if video_feat.dim() != 2 or video_feat.shape != text_feat.shape:
        raise ValueError('expected video and text features of the same shape (B, D), got '
                         f'{tuple(video_feat.shape)} and {tuple(text_feat.shape)}')
    if video_feat.shape[0] == 0:
        raise ValueError('expected a non-empty batch of features')
    if isinstance(temp, torch.Tensor) and temp.numel() != 1:
        raise ValueError(f'expected a scalar temperature, got a tensor of shape {tuple(temp.shape)}')
    rank, world_size = _distributed_world(group)
    if gather and world_size > 1:
        sizes = _gather_batch_sizes(video_feat.shape[0], video_feat.device, group)
        all_video = all_gather_with_grad(video_feat, sizes, group)
        all_text = all_gather_with_grad(text_feat, sizes, group)
        offset = sum(sizes[:rank])
    else:
        all_video, all_text, offset = video_feat, text_feat, 0
    scale = 1 / temp.reshape(()) if isinstance(temp, torch.Tensor) else 1 / temp
    return VTCSimilarities(
        scaled_cosine_similarity(video_feat, all_text, scale), scaled_cosine_similarity(text_feat, all_video, scale),
        offset)


def vtc_loss_from_similarities(sims: VTCSimilarities) -> torch.Tensor:
    """ALPRO's VTC loss from the logits: the mean of the video-to-text and text-to-video cross-entropies, the target
    of row ``i`` being column ``offset + i``.

    Args:
        sims (VTCSimilarities): The output of :func:`vtc_similarities`.

    Returns:
        torch.Tensor: The scalar loss of the local rows.
    """
    batch_size = sims.sim_v2t.shape[0]
    targets = torch.arange(batch_size, device=sims.sim_v2t.device) + sims.offset
    return (F.cross_entropy(sims.sim_v2t, targets) + F.cross_entropy(sims.sim_t2v, targets)) / 2


@MODELS.register_module()
class VTCLoss(nn.Module):
    """ALPRO's video-text contrastive loss over the batch of all ranks (no queue, no momentum encoder).

    The temperature is a parameter of the model (ALPRO's top-level ``temp``, 0.07 at init), passed to
    :meth:`forward`; clamp it first in the model's forward with :meth:`clamp_temperature` (or
    :func:`clamp_temperature_`), as the official code does at every forward.

    Args:
        loss_weight (float): Factor of the loss. Defaults to 1.0 (ALPRO sums its losses unweighted).
        gather (bool): Contrast against the features of all ranks when distributed. Defaults to True.
        temp_min (float): Lower bound of the temperature. Defaults to 0.001.
        temp_max (float): Upper bound of the temperature. Defaults to 0.5.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 gather: bool = True,
                 temp_min: float = TEMP_MIN,
                 temp_max: float = TEMP_MAX) -> None:
        super().__init__()
        if not 0 < temp_min <= temp_max:
            raise ValueError(f'expected 0 < temp_min <= temp_max, got {temp_min} and {temp_max}')
        self.loss_weight = loss_weight
        self.gather = gather
        self.temp_min = temp_min
        self.temp_max = temp_max

    def clamp_temperature(self, temp: torch.Tensor) -> torch.Tensor:
        """Clamp the model's temperature in place to ``[temp_min, temp_max]`` (see :func:`clamp_temperature_`).

        Args:
            temp (torch.Tensor): The temperature parameter.

        Returns:
            torch.Tensor: ``temp`` itself, clamped.
        """
        return clamp_temperature_(temp, self.temp_min, self.temp_max)

    def forward(self,
                video_feat: torch.Tensor,
                text_feat: torch.Tensor,
                temp: Union[torch.Tensor, float],
                return_similarities: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, VTCSimilarities]]:
        """Compute the loss of the local pairs against the batch of all ranks.

        Args:
            video_feat (torch.Tensor): Local video features ``(B, D)`` (normalised or not: normalised here).
            text_feat (torch.Tensor): Local text features ``(B, D)``, row ``i`` paired with video ``i``.
            temp (torch.Tensor | float): The (clamped) temperature.
            return_similarities (bool): Also return the logits, e.g. for VTM's hard negatives
                (``sims.local_v2t``, ``sims.local_t2v``). Defaults to False.

        Returns:
            torch.Tensor | tuple[torch.Tensor, VTCSimilarities]: The weighted scalar loss, and the logits if asked.
        """
        sims = vtc_similarities(video_feat, text_feat, temp, gather=self.gather)
        loss = self.loss_weight * vtc_loss_from_similarities(sims)
        if return_similarities:
            return loss, sims
        return loss

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, gather={self.gather}, temp_min={self.temp_min}, '
                f'temp_max={self.temp_max}')
