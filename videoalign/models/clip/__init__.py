"""CLIP itself, as several components share it: the size table, CLIP's layers, and loading base CLIP weights.

The CLIP-based components live by role (``backbones/clip_vit.py`` and ``backbones/clip_blocks/``,
``text/clip_text_encoder.py``); what they have in common is here.
"""
from .archs import CLIP_ARCH_ALIASES, CLIP_ARCHS, get_clip_arch
from .layers import CLIPResidualBlock, LayerNorm, QuickGELU, clip_mlp
from .weights import CLIPPretrainedInit, load_clip_state_dict, load_clip_weights

__all__ = [
    'CLIP_ARCHS', 'CLIP_ARCH_ALIASES', 'get_clip_arch', 'CLIPResidualBlock', 'LayerNorm', 'QuickGELU', 'clip_mlp',
    'CLIPPretrainedInit', 'load_clip_state_dict', 'load_clip_weights'
]
