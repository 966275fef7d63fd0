"""Small parts shared by blocks and models."""
from .clip_layers import CLIPResidualBlock, LayerNorm, QuickGELU, clip_mlp

__all__ = ['CLIPResidualBlock', 'LayerNorm', 'QuickGELU', 'clip_mlp']
