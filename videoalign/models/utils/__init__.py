"""Model utilities: loading base CLIP weights."""
from .clip_checkpoint import CLIPPretrainedInit, is_torchscript_archive, load_clip_state_dict, load_clip_weights

__all__ = ['CLIPPretrainedInit', 'is_torchscript_archive', 'load_clip_state_dict', 'load_clip_weights']
