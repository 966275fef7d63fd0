"""The similarity of L2-normalised embeddings, scaled by an inverse temperature: CLIP's logits."""
from typing import Union

import torch
import torch.nn.functional as F


def scaled_cosine_similarity(a: torch.Tensor, b: torch.Tensor, scale: Union[torch.Tensor, float]) -> torch.Tensor:
    """``scale * cos(a_i, b_j)``: both sides L2-normalised on the last axis, then the scaled dot products.

    The logits of the text-prompt heads (``scale = logit_scale.exp()`` or ``1 / temperature``) and of ALPRO's
    video-text contrastive (VTC) loss (``v @ t^T / temp`` over the gathered batch).

    Args:
        a (torch.Tensor): Queries ``(N, D)``, e.g. video embeddings.
        b (torch.Tensor): Keys ``(M, D)`` shared by all queries (class text embeddings), or ``(N, M, D)``, one set per
            query (X-CLIP's class embeddings with a video-specific prompt).
        scale (torch.Tensor | float): The inverse temperature, a scalar.

    Returns:
        torch.Tensor: The scaled similarities ``(N, M)``.
    """
    if a.dim() != 2 or b.dim() not in (2, 3) or b.shape[-1] != a.shape[-1] or b.shape[:-2] not in ((), a.shape[:1]):
        raise ValueError(f'expected a (N, D) and b (M, D) or (N, M, D), got {tuple(a.shape)} and {tuple(b.shape)}')
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    if b.dim() == 2:
        return scale * a @ b.t()
    return scale * torch.einsum('nd,nmd->nm', a, b)
