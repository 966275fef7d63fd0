"""Efficient-Prompt's temporal modelling: a small transformer over the per-frame CLIP embeddings, then a mean over T.

Official code: ``ju-chen/Efficient-Prompt`` ``src/model.py`` (``CLIPrompt.temporalEmbedding``, ``TemporalModelling``,
``CLIPrompt.forward`` with ``--temporal 1``; commit ``1f69a18``).
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn

from videoalign.models.clip.layers import CLIPResidualBlock
from videoalign.registry import MODELS
from .frame_integration import FrameIntegrationNeck


@MODELS.register_module()
class TemporalTransformer(FrameIntegrationNeck):
    """``mean_T(blocks(frame_embeds + temporal_embedding))``: Efficient-Prompt's temporal transformer as a neck.

    The blocks are CLIP's pre-LN transformer blocks (``nn.MultiheadAttention``, an MLP ``D -> 4D -> D`` with
    QuickGELU) with PyTorch's default initialisation, as the official ``TemporalModelling``. Unlike X-CLIP's MIT there
    is no residual around the module: the video embedding is the mean over T of the blocks' output.

    Keys are the official ones with ``temporalEmbedding`` written ``temporal_embedding`` and ``temporalModelling``
    written ``transformer``: ``temporal_embedding.weight`` (``(num_frames, D)``) and
    ``transformer.resblocks.{i}.{attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.*, ln_1.*, mlp.c_fc.*,
    mlp.c_proj.*, ln_2.*}``. With 1 layer of width 512 and 16 frames it has 3,160,576 parameters.

    It reads ``frame_embeds`` ``(B, T, D)`` of the backbone's :class:`~videoalign.structures.VideoFeatures` (or a bare
    tensor of frame embeddings: cached features behind a ``torch.nn.Identity`` backbone) and returns the features
    with ``video_embeds`` ``(B, D)`` set, and ``{}`` (see :class:`~videoalign.models.necks.FrameIntegrationNeck`).

    Args:
        num_frames (int): Frames per clip ``T``; fixes the size of the temporal embedding. Defaults to 16
            (``--numFrames 16``).
        embed_dims (int): Width ``D`` of the frame embeddings. Defaults to 512.
        num_layers (int): Transformer blocks. Defaults to 1 (the README's ``--tfm_layers 1``; the argparse default
            is 2).
        num_heads (int): Attention heads. Defaults to 8 (``--tfm_heads 8``).
        init_cfg (dict or list[dict], optional): Initialisation config. Defaults to normal with std 0.01 for the
            temporal embedding (also drawn at construction, so the module works without ``init_weights``), and
            nothing for the blocks, which keep PyTorch's default initialisation.
    """

    def __init__(
        self,
        num_frames: int = 16,
        embed_dims: int = 512,
        num_layers: int = 1,
        num_heads: int = 8,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(type='Normal', layer='Embedding', std=0.01)
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_frames < 1 or num_layers < 1:
            raise ValueError(f'num_frames ({num_frames}) and num_layers ({num_layers}) must be positive')
        if num_heads < 1 or embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        self.num_frames = num_frames
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.temporal_embedding = nn.Embedding(num_frames, embed_dims)
        nn.init.normal_(self.temporal_embedding.weight, std=0.01)
        # a ModuleDict gives the keys transformer.resblocks.{i}.* of the official temporalModelling.resblocks.{i}.*
        self.transformer = nn.ModuleDict(
            dict(resblocks=nn.Sequential(*[CLIPResidualBlock(embed_dims, num_heads) for _ in range(num_layers)])))

    def integrate(self, frame_embeds: torch.Tensor) -> torch.Tensor:
        """Integrate frame embeddings ``(B, T, D)`` into video embeddings ``(B, D)``."""
        if frame_embeds.dim() != 3 or frame_embeds.shape[1:] != (self.num_frames, self.embed_dims):
            raise ValueError(f'{self.__class__.__name__} expects frame embeddings of shape (B, {self.num_frames}, '
                             f'{self.embed_dims}), got {tuple(frame_embeds.shape)}')
        x = frame_embeds + self.temporal_embedding.weight.to(frame_embeds.dtype)
        x = self.transformer.resblocks(x.transpose(0, 1))  # CLIP blocks are sequence-first: (T, B, D)
        return x.mean(dim=0)
