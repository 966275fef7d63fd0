"""The parts of OpenAI CLIP's transformer that every CLIP-based block shares, with CLIP's parameter names.

Key names match OpenAI CLIP (``attn.in_proj_weight``, ``ln_1``, ``mlp.c_fc``, ``mlp.c_proj``, ``ln_2``), so CLIP
weights and the official X-CLIP / AIM / DualPath checkpoints load by name. Attention runs through
``nn.MultiheadAttention`` with ``need_weights=False``, which dispatches to fused scaled-dot-product attention.
"""
from collections import OrderedDict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 and cast back, as in CLIP (keeps fp16/bf16 training stable).

    The affine parameters are cast too, so the module also works after ``model.half()`` or ``model.double()``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` over its last dimension."""
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps).to(x.dtype)


class QuickGELU(nn.Module):
    """CLIP's GELU approximation ``x * sigmoid(1.702 x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the activation."""
        return x * torch.sigmoid(1.702 * x)


def clip_mlp(width: int, mlp_ratio: float = 4.0) -> nn.Sequential:
    """CLIP's MLP: ``c_fc`` (width -> ratio x width), QuickGELU, ``c_proj`` back to width.

    Args:
        width (int): Token width.
        mlp_ratio (float): Hidden width over token width. Defaults to 4.0.

    Returns:
        nn.Sequential: The MLP, with CLIP's submodule names.
    """
    hidden = int(width * mlp_ratio)
    return nn.Sequential(
        OrderedDict([('c_fc', nn.Linear(width, hidden)), ('gelu', QuickGELU()), ('c_proj', nn.Linear(hidden, width))]))


class CLIPResidualBlock(nn.Module):
    """CLIP's pre-LN transformer block on sequence-first tokens ``(L, N, D)``.

    ``x = x + drop_path(attn(ln_1(x)))``; ``x = x + drop_path(mlp(ln_2(x)))``.

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads.
        drop_path (float): Stochastic depth rate of both residual branches. Defaults to 0.
        attn_mask (torch.Tensor, optional): Additive mask, e.g. the causal mask of the text tower. Defaults to None.
        mlp_ratio (float): Hidden width of the MLP over ``width``. Defaults to 4.0.
    """

    def __init__(self,
                 width: int,
                 num_heads: int,
                 drop_path: float = 0.,
                 attn_mask: Optional[torch.Tensor] = None,
                 mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.width = width
        self.num_heads = num_heads
        self.attn = nn.MultiheadAttention(width, num_heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = clip_mlp(width, mlp_ratio)
        self.ln_2 = LayerNorm(width)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.register_buffer('attn_mask', attn_mask, persistent=False)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention of ``x`` (already normalised), with this block's mask."""
        mask = None if self.attn_mask is None else self.attn_mask.to(dtype=x.dtype, device=x.device)
        return self.attn(x, x, x, need_weights=False, attn_mask=mask)[0]

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Run the block on ``x`` of shape ``(L, N, D)``; extra keyword arguments (``num_frames``) are ignored."""
        x = x + self.drop_path(self.attention(self.ln_1(x)))
        return x + self.drop_path(self.mlp(self.ln_2(x)))


#: The initialisation X-CLIP gives its new transformer modules (MIT, the video-specific prompt): ``trunc_normal_``
#: weights (std 0.02) and zero biases for every ``Linear``, unit LayerNorms.
TRANSFORMER_INIT_CFG = [
    dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
]


def default_num_heads(embed_dims: int) -> int:
    """CLIP's head count for a width: one head per 64 channels (at least one)."""
    return max(embed_dims // 64, 1)
