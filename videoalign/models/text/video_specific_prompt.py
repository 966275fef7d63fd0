"""X-CLIP's video-specific prompt generator: class text embeddings cross-attend to the video's patch tokens.

Official code: ``microsoft/VideoX`` ``X-CLIP/models/prompt.py`` (``MulitHeadAttention``, ``PromptGeneratorLayer``,
``VideoSpecificPrompt``) and the visual input path of ``X-CLIP/models/xclip.py`` (``prompts_visual_ln``,
``prompts_visual_proj``), commit ``1744b21``.
"""
from collections import OrderedDict
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.models.clip.layers import (TRANSFORMER_INIT_CFG, LayerNorm, QuickGELU, default_num_heads,
                                           scaled_dot_product_attention)
from videoalign.registry import MODELS


class PromptCrossAttention(nn.Module):
    """Multi-head attention with separate bias-free ``q_proj``, ``k_proj``, ``v_proj`` and a biased ``proj``.

    The official ``MulitHeadAttention`` computes ``softmax(q k^T / sqrt(d)) v`` explicitly; this runs the same
    computation through the fused ``F.scaled_dot_product_attention`` (by
    :func:`~videoalign.models.clip.layers.scaled_dot_product_attention`).

    Args:
        embed_dims (int): Width of queries, keys and values.
        num_heads (int): Attention heads.
        dropout (float): Dropout after ``proj`` (the official ``proj_drop``). Defaults to 0.
    """

    def __init__(self, embed_dims: int, num_heads: int, dropout: float = 0.) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dims, embed_dims, bias=False)
        self.k_proj = nn.Linear(embed_dims, embed_dims, bias=False)
        self.v_proj = nn.Linear(embed_dims, embed_dims, bias=False)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` -> ``(B, heads, L, D / heads)``."""
        return x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Attend from ``query`` ``(B, K, D)`` to ``key``/``value`` ``(B, M, D)``; returns ``(B, K, D)``."""
        q = self._split_heads(self.q_proj(query))
        k = self._split_heads(self.k_proj(key))
        v = self._split_heads(self.v_proj(value))
        x = scaled_dot_product_attention(q, k, v)  # scale 1 / sqrt(head_dim), as the official qk_scale
        return self.proj_drop(self.proj(x.transpose(1, 2).flatten(2)))


class PromptGeneratorLayer(nn.Module):
    """One prompt-generator layer: pre-LN cross-attention from the text to the visual tokens, then a pre-LN MLP.

    ``text = text + cross_attn(norm1(text), visual, visual)``; ``text = text + dropout(mlp(norm3(text)))``.

    Args:
        embed_dims (int): Token width ``D``.
        num_heads (int): Attention heads.
        dropout (float): Dropout of the attention output, inside the MLP and after it. Defaults to 0.
    """

    def __init__(self, embed_dims: int, num_heads: int, dropout: float = 0.) -> None:
        super().__init__()
        self.cross_attn = PromptCrossAttention(embed_dims, num_heads, dropout)
        self.norm1 = LayerNorm(embed_dims)
        self.norm3 = LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        # keys mlp.0.* / mlp.3.*, as the official Sequential
        self.mlp = nn.Sequential(
            OrderedDict([('0', nn.Linear(embed_dims, embed_dims * 4)), ('1', QuickGELU()), ('2', nn.Dropout(dropout)),
                         ('3', nn.Linear(embed_dims * 4, embed_dims))]))

    def forward(self, text: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        """Update ``text`` ``(B, K, D)`` from ``visual`` ``(B, M, D)``."""
        q = self.norm1(text)
        text = text + self.cross_attn(q, visual, visual)
        return text + self.dropout(self.mlp(self.norm3(text)))


@MODELS.register_module()
class VideoSpecificPrompt(BaseModule):
    """X-CLIP's video-specific prompt generator, including its visual input path.

    The visual tokens are the backbone's raw patch tokens ``(B, T, N, W)`` (no ``ln_post``):
    ``visual = visual_ln(patch_tokens) @ visual_proj``, then the mean over T (issue #58: the input is the temporal
    average of the frame patch features, not the MIT output) and ``norm``. The class text embeddings ``(B, K, D)``
    then pass ``num_layers`` cross-attention layers and the output is ``alpha * text``, a prompt that the caller adds
    to the text embeddings (``text = text + prompt(text, patch_tokens)``).

    Official key -> key of this module (the official generator's other keys keep their suffixes):

    - ``prompts_visual_ln.{weight,bias}`` -> ``visual_ln.{weight,bias}``
    - ``prompts_visual_proj`` -> ``visual_proj``
    - ``prompts_generator.{alpha, norm.*, decoder.{j}.*}`` -> ``{alpha, norm.*, decoder.{j}.*}``, where a layer holds
      ``cross_attn.{q,k,v}_proj.weight`` (no bias), ``cross_attn.proj.{weight,bias}``, ``norm1.*``, ``norm3.*``,
      ``mlp.0.*`` and ``mlp.3.*``.

    The official LayerNorms of the generator are ``nn.LayerNorm``; these are CLIP's float32 LayerNorm, the same
    computation in float32.

    Args:
        embed_dims (int): Width ``D`` of the text embeddings and of the generator. Defaults to 512.
        visual_width (int): Width ``W`` of the backbone's patch tokens (768 for ViT-B). Defaults to 768.
        num_layers (int): Generator layers. Defaults to 2 (X-CLIP's ``load()`` default, the value in effect).
        num_heads (int, optional): Attention heads; None means ``embed_dims // 64``. Defaults to None.
        alpha_init (float): Initial value of every channel of ``alpha``. Defaults to 0.1 (``load()``'s default, not
            ``XCLIP.__init__``'s 1e-4).
        dropout (float): Dropout inside the generator layers. Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialisation config. Defaults to trunc_normal (std 0.02, bias 0)
            for Linear layers and weight 1 / bias 0 for LayerNorm, as the official ``_init_weights``. ``visual_proj``
            is not a Linear layer: it keeps its ``torch.randn`` (std 1) initialisation, as the official.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 visual_width: int = 768,
                 num_layers: int = 2,
                 num_heads: Optional[int] = None,
                 alpha_init: float = 0.1,
                 dropout: float = 0.,
                 init_cfg: Optional[Union[dict, List[dict]]] = TRANSFORMER_INIT_CFG) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_heads is None:
            num_heads = default_num_heads(embed_dims)
        if num_layers < 1:
            raise ValueError(f'num_layers must be positive, got {num_layers}')
        self.embed_dims = embed_dims
        self.visual_width = visual_width
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.visual_ln = LayerNorm(visual_width)
        self.visual_proj = nn.Parameter(torch.randn(visual_width, embed_dims))
        self.norm = LayerNorm(embed_dims)
        self.decoder = nn.ModuleList([PromptGeneratorLayer(embed_dims, num_heads, dropout) for _ in range(num_layers)])
        self.alpha = nn.Parameter(torch.ones(embed_dims) * alpha_init)

    def visual_tokens(self, patch_tokens: torch.Tensor) -> torch.Tensor:
        """Project the patch tokens ``(B, T, N, W)`` and average them over T: ``(B, N, D)`` (before ``norm``)."""
        if patch_tokens.dim() != 4 or patch_tokens.shape[-1] != self.visual_width:
            raise ValueError(f'{self.__class__.__name__} expects patch tokens of shape (B, T, N, {self.visual_width}), '
                             f'got {tuple(patch_tokens.shape)}')
        visual = self.visual_ln(patch_tokens) @ self.visual_proj.to(patch_tokens.dtype)
        return visual.mean(dim=1)

    def forward(self, text_embeds: torch.Tensor, patch_tokens: torch.Tensor) -> torch.Tensor:
        """Generate the video-specific prompts of the class text embeddings.

        Args:
            text_embeds (torch.Tensor): Class text embeddings ``(B, K, D)``, or ``(K, D)`` shared by all videos (then
                expanded to one copy per video, as ``XCLIP.forward`` does).
            patch_tokens (torch.Tensor): The backbone's raw patch tokens ``(B, T, N, W)``.

        Returns:
            torch.Tensor: The prompts ``alpha * text`` of shape ``(B, K, D)``.
        """
        visual = self.norm(self.visual_tokens(patch_tokens))
        text = text_embeds
        if text.dim() == 2:
            text = text.unsqueeze(0).expand(visual.shape[0], -1, -1)
        if text.dim() != 3 or text.shape[0] != visual.shape[0] or text.shape[-1] != self.embed_dims:
            raise ValueError(f'text_embeds of shape {tuple(text_embeds.shape)} do not match (B={visual.shape[0]}, K, '
                             f'{self.embed_dims})')
        text = text.to(visual.dtype)
        for layer in self.decoder:
            text = layer(text, visual)
        return self.alpha * text
