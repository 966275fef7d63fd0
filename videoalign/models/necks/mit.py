"""X-CLIP's Multi-frame Integration Transformer (MIT): a temporal transformer over the frame CLS embeddings.

Official code: ``microsoft/VideoX`` ``X-CLIP/models/mit.py`` (commit ``1744b21``).

Efficient-Prompt's temporal transformer (``ju-chen/Efficient-Prompt`` ``src/model.py``, ``TemporalModelling``) is a
close relative with the same block (CLIP pre-LN block, same key names) and the same final mean over T. It differs in:
its temporal embedding is an ``nn.Embedding(16, 512)`` initialised normal with std 0.01 (MIT: a ``(1, T, D)``
parameter, trunc_normal std 0.02); it keeps PyTorch's default init (MIT: Linear trunc_normal 0.02 / bias 0,
LayerNorm 1 / 0); it has **no** residual around the module (MIT adds the frame features back, without the position
embedding); its layer and head counts are arguments (README: 1 layer, 8 heads; argparse default 2 layers).
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_

from videoalign.models.clip.layers import TRANSFORMER_INIT_CFG, CLIPResidualBlock, default_num_heads
from videoalign.registry import MODELS
from .frame_integration import FrameIntegrationNeck


@MODELS.register_module(name=['MultiframeIntegrationTransformer', 'MIT'])
class MultiframeIntegrationTransformer(FrameIntegrationNeck):
    """Multi-frame Integration Transformer of X-CLIP, as a neck of mmaction2's ``Recognizer3D``.

    ``x = frame_cls + positional_embedding``; ``x = resblocks(x)``; ``x = x + frame_cls`` (the residual adds back the
    input **without** the position embedding); the video embedding is the mean of ``x`` over T.

    The state dict matches the official ``mit.*`` keys without their prefix (``positional_embedding``,
    ``resblocks.{i}.attn.in_proj_weight``, ``.attn.out_proj.*``, ``.ln_1.*``, ``.mlp.c_fc.*``, ``.mlp.c_proj.*``,
    ``.ln_2.*``), so an official checkpoint maps ``mit.`` to ``neck.`` by prefix only. The official blocks use
    ``nn.LayerNorm``; these use CLIP's float32 LayerNorm, which is the same computation in float32.

    The neck reads the frame CLS embeddings ``frame_embeds`` ``(B, T, D)`` of the backbone's
    :class:`~videoalign.structures.VideoFeatures` and sets ``video_embeds`` ``(B, D)``; the other fields (X-CLIP's
    ``patch_tokens``) pass through unchanged. Like every mmaction2 neck it returns ``(features, loss_aux)``;
    ``loss_aux`` is always an empty dict.

    Args:
        num_frames (int): Frames per clip ``T``; fixes the shape of the temporal position embedding.
            Defaults to 8.
        embed_dims (int): Width ``D`` of the frame embeddings. Defaults to 512.
        num_layers (int): Transformer blocks. Defaults to 1 (the value X-CLIP's ``load()`` uses).
        num_heads (int, optional): Attention heads; None means ``embed_dims // 64``. Defaults to None.
        init_cfg (dict or list[dict], optional): Initialisation config. Defaults to trunc_normal (std 0.02, bias 0)
            for Linear layers and weight 1 / bias 0 for LayerNorm, as the official ``_init_weights``.
    """

    def __init__(self,
                 num_frames: int = 8,
                 embed_dims: int = 512,
                 num_layers: int = 1,
                 num_heads: Optional[int] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = TRANSFORMER_INIT_CFG) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_heads is None:
            num_heads = default_num_heads(embed_dims)
        if num_frames < 1 or num_layers < 1:
            raise ValueError(f'num_frames ({num_frames}) and num_layers ({num_layers}) must be positive')
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        self.num_frames = num_frames
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.num_heads = num_heads
        # drawn here, as the official __init__ does, so it is valid with or without init_weights()
        self.positional_embedding = nn.Parameter(torch.empty(1, num_frames, embed_dims))
        trunc_normal_(self.positional_embedding, std=0.02)
        self.resblocks = nn.Sequential(*[CLIPResidualBlock(embed_dims, num_heads) for _ in range(num_layers)])

    def integrate(self, frame_cls: torch.Tensor) -> torch.Tensor:
        """Integrate frame embeddings ``(B, T, D)`` into video embeddings ``(B, D)``."""
        if frame_cls.dim() != 3 or frame_cls.shape[1:] != self.positional_embedding.shape[1:]:
            raise ValueError(f'{self.__class__.__name__} expects frame embeddings of shape (B, {self.num_frames}, '
                             f'{self.embed_dims}), got {tuple(frame_cls.shape)}')
        x = frame_cls + self.positional_embedding.to(frame_cls.dtype)
        x = self.resblocks(x.permute(1, 0, 2))  # CLIP blocks are sequence-first: (T, B, D)
        x = x.permute(1, 0, 2).type(frame_cls.dtype) + frame_cls
        return x.mean(dim=1)
