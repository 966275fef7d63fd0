"""Backbones: the CLIP ViT video backbone and the blocks that decide how frames talk; BEVT's two-stream Video Swin;
ALPRO's TimeSformer."""
from .alpro_timesformer import ALPROTimeSformer
from .clip_blocks import CLIPBlock, XCLIPBlock
from .clip_vit import CLIPViT
from .dualpath_vit import DualPathViT
from .swin_bevt import SwinTransformerBEVT

__all__ = ['CLIPViT', 'DualPathViT', 'CLIPBlock', 'XCLIPBlock', 'SwinTransformerBEVT', 'ALPROTimeSformer']
