"""Conversion of official checkpoints to videoalign's layout: one named function per method."""
from .aim import convert_aim
from .dalle import convert_dalle_encoder
from .dualpath import convert_dualpath, dualpath_state_dict
from .efficient_prompt import convert_efficient_prompt
from .io import Placeholder, load_official_checkpoint, save_converted
from .openai_clip import convert_openai_clip
from .torchscript import load_torchscript_state_dict
from .xclip import convert_xclip

__all__ = [
    'load_official_checkpoint', 'save_converted', 'Placeholder', 'convert_aim', 'convert_dualpath',
    'dualpath_state_dict', 'convert_efficient_prompt', 'convert_xclip', 'convert_openai_clip', 'convert_dalle_encoder',
    'load_torchscript_state_dict'
]
