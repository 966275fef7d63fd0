"""Transformer blocks that plug into :class:`~videoalign.models.backbones.clip_vit.CLIPViT` (``block_cfg``)."""
from .clip_block import CLIPBlock
from .xclip_block import XCLIPBlock

__all__ = ['CLIPBlock', 'XCLIPBlock']
