"""The parts of OpenAI CLIP's transformer that every CLIP-based block shares, with CLIP's parameter names.

Key names match OpenAI CLIP (``attn.in_proj_weight``, ``ln_1``, ``mlp.c_fc``, ``mlp.c_proj``, ``ln_2``), so CLIP
weights and the official X-CLIP / AIM / DualPath checkpoints load by name. The ``nn.MultiheadAttention`` modules hold
the attention weights; :func:`self_attention` runs them through ``F.scaled_dot_product_attention`` directly, which
gives what ``attn(x, x, x, need_weights=False)[0]`` gives without its copies of the projected queries, keys and
values (or, in bfloat16 on a CPU without AMX, where that kernel is slow, through two matmuls and a softmax).
"""
import functools
from collections import OrderedDict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 and cast back, as in CLIP (keeps fp16/bf16 training stable).

    The affine parameters are cast too, so the module also works after ``model.half()`` or ``model.double()``. On
    the CPU a bfloat16 or float16 input goes to the kernel as it is: the CPU kernel computes such inputs in float32
    itself, so the result is the same (up to the final rounding) without two casts of the whole tensor.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` over its last dimension."""
        if x.device.type == 'cpu' and x.dtype in (torch.bfloat16, torch.float16) and \
                all(p is None or p.dtype in (x.dtype, torch.float32) for p in (self.weight, self.bias)):
            # computed in float32 by the kernel (CPU autocast leaves layer_norm alone, so the input stays as it is)
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps).to(x.dtype)
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps).to(x.dtype)


class QuickGELU(nn.Module):
    """CLIP's GELU approximation ``x * sigmoid(1.702 x)``.

    Args:
        inplace (bool): Write the result into ``x`` when autograd does not need ``x`` (no gradient recorded for
            it), saving two temporaries of its size; the values are the same. Defaults to False.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the activation."""
        if self.inplace and not (torch.is_grad_enabled() and x.requires_grad):
            return x.mul_(torch.mul(x, 1.702).sigmoid_())
        return x * torch.sigmoid(1.702 * x)

    def extra_repr(self) -> str:
        return 'inplace=True' if self.inplace else ''


def clip_mlp(width: int, mlp_ratio: float = 4.0) -> nn.Sequential:
    """CLIP's MLP: ``c_fc`` (width -> ratio x width), QuickGELU (in place on the output of ``c_fc``), ``c_proj``.

    Args:
        width (int): Token width.
        mlp_ratio (float): Hidden width over token width. Defaults to 4.0.

    Returns:
        nn.Sequential: The MLP, with CLIP's submodule names.
    """
    hidden = int(width * mlp_ratio)
    return nn.Sequential(
        OrderedDict([('c_fc', nn.Linear(width, hidden)), ('gelu', QuickGELU(inplace=True)),
                     ('c_proj', nn.Linear(hidden, width))]))


@functools.lru_cache(maxsize=None)
def cpu_has_amx() -> bool:
    """Whether the CPU has AMX tiles (Sapphire Rapids and newer), as PyTorch itself detects them."""
    is_supported = getattr(torch.cpu, '_is_amx_tile_supported', None)
    return bool(is_supported()) if is_supported is not None else False


def fused_attention_is_slow(x: torch.Tensor) -> bool:
    """Whether :func:`scaled_dot_product_attention` computes the attention of ``x`` with two matmuls, not fused.

    True for bfloat16 on a CPU without AMX. There PyTorch's fused CPU kernel (flash attention for the CPU) runs
    bfloat16 no faster than float32, and its backward at a third of the speed of the unfused matmuls, which do use
    the CPU's bfloat16 dot products. Measured on an AMD EPYC with ``avx512_bf16``, 8 frames of 197 tokens,
    12 heads: forward 7.3 ms fused against 3.1 ms unfused, forward and backward 32.6 ms against 10.5 ms; AIM's bf16
    train step spends 29% of its time in the fused kernel. With AMX the fused kernel uses AMX tiles itself.

    Args:
        x (torch.Tensor): The input of the attention.

    Returns:
        bool: True where the matmul path is used.
    """
    return x.device.type == 'cpu' and x.dtype == torch.bfloat16 and not cpu_has_amx()


def scaled_dot_product_attention(q: torch.Tensor,
                                 k: torch.Tensor,
                                 v: torch.Tensor,
                                 attn_mask: Optional[torch.Tensor] = None,
                                 dropout_p: float = 0.) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p)``, by two matmuls and a softmax where the fused
    kernel is slow (:func:`fused_attention_is_slow`).

    Args:
        q (torch.Tensor): Queries ``(N, H, L, d)``.
        k (torch.Tensor): Keys ``(N, H, S, d)``.
        v (torch.Tensor): Values ``(N, H, S, dv)``.
        attn_mask (torch.Tensor, optional): Additive (float) mask, or a boolean one that is True where attention is
            allowed (``F.scaled_dot_product_attention``'s convention). Defaults to None.
        dropout_p (float): Dropout of the attention probabilities. Defaults to 0.

    Returns:
        torch.Tensor: ``(N, H, L, dv)``.
    """
    if not fused_attention_is_slow(q):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)
    scores = torch.matmul(q * q.shape[-1]**-0.5, k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float('-inf')) if attn_mask.dtype == torch.bool else scores + attn_mask
    probs = scores.softmax(dim=-1)
    if dropout_p > 0:
        probs = F.dropout(probs, dropout_p)
    return torch.matmul(probs, v)


def self_attention(attn: nn.MultiheadAttention,
                   x: torch.Tensor,
                   batch_first: bool = False,
                   attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Multi-head self-attention of ``x`` with the weights of ``attn``, through :func:`scaled_dot_product_attention`.

    The result is ``attn(x, x, x, need_weights=False, attn_mask=attn_mask)[0]``, computed without copying the
    projected queries, keys and values: they are strided views of the input projection, which the fused kernel reads
    as they are, and with a batch-first ``x`` the output of the CPU kernel is already laid out for the output
    projection (in bfloat16 on a CPU without AMX, two matmuls and a softmax replace the fused kernel).

    Args:
        attn (nn.MultiheadAttention): The weights: packed ``in_proj_weight``/``in_proj_bias`` and ``out_proj``,
            without ``bias_k``/``bias_v`` or ``add_zero_attn`` (its own ``batch_first`` is not read).
        x (torch.Tensor): Tokens ``(S, N, D)``, or ``(N, S, D)`` if ``batch_first``; the sequence ``S`` attends to
            itself in each of the ``N`` batch entries.
        batch_first (bool): The layout of ``x`` and of the output. Defaults to False.
        attn_mask (torch.Tensor, optional): Additive (float) mask ``(S, S)``, or a boolean one that is True where
            attention is not allowed (``nn.MultiheadAttention``'s convention). Defaults to None.

    Returns:
        torch.Tensor: The attention output, the shape of ``x``.
    """
    if not attn._qkv_same_embed_dim or attn.bias_k is not None or attn.add_zero_attn:
        raise ValueError('self_attention takes an nn.MultiheadAttention with packed input projections, without '
                         'bias_k, bias_v and add_zero_attn')
    qkv = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).unflatten(-1, (3, attn.num_heads, attn.head_dim))
    # (N, S, 3, H, d) or (S, N, 3, H, d) -> q, k, v of shape (N, H, S, d)
    q, k, v = qkv.permute(2, 0, 3, 1, 4) if batch_first else qkv.permute(2, 1, 3, 0, 4)
    if attn_mask is not None:
        # nn.MultiheadAttention masks where a boolean mask is True; F.scaled_dot_product_attention keeps those
        attn_mask = attn_mask.to(q.dtype) if attn_mask.is_floating_point() else ~attn_mask
    out = scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=attn.dropout if attn.training else 0.)
    out = out.transpose(1, 2) if batch_first else out.permute(2, 0, 1, 3)
    return F.linear(out.flatten(2), attn.out_proj.weight, attn.out_proj.bias)


class CLIPResidualBlock(nn.Module):
    """CLIP's pre-LN transformer block on sequence-first tokens ``(L, N, D)``.

    ``x = x + drop_path(attn(ln_1(x)))``; ``x = x + drop_path(mlp(ln_2(x)))``.

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads.
        drop_path (float): Stochastic depth rate of both residual branches. Defaults to 0.
        attn_mask (torch.Tensor, optional): Additive mask ``(L, L)``, e.g. the causal mask of the text tower. A
            shorter sequence ``S`` uses its leading ``(S, S)`` part (for a causal mask: the causal mask of ``S``).
            Defaults to None.
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

    def attention(self, x: torch.Tensor, batch_first: bool = False) -> torch.Tensor:
        """Self-attention of ``x`` (already normalised), with this block's mask (see :func:`self_attention`)."""
        mask = self.attn_mask
        if mask is not None:
            length = x.shape[1 if batch_first else 0]
            mask = mask[:length, :length].to(device=x.device)
        return self_attention(self.attn, x, batch_first=batch_first, attn_mask=mask)

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
