"""Backbones: the CLIP ViT video backbone and the blocks that decide how frames talk."""
from .clip_blocks import CLIPBlock, XCLIPBlock
from .clip_vit import CLIPViT
from .dualpath_vit import DualPathViT

__all__ = ['CLIPViT', 'DualPathViT', 'CLIPBlock', 'XCLIPBlock']
