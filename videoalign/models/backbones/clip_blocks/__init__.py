"""Transformer blocks that plug into :class:`~videoalign.models.backbones.clip_vit.CLIPViT` (``block_cfg``)."""
from .aim_block import AIMBlock
from .clip_block import CLIPBlock
from .dualpath_block import DualPathBlock
from .xclip_block import XCLIPBlock

__all__ = ['AIMBlock', 'CLIPBlock', 'DualPathBlock', 'XCLIPBlock']
