"""Conversion of official checkpoints to videoalign's layout: one named, registered function per method.

Each converter registers itself by name (:func:`register_converter`); the model hub and ``tools/convert/convert.py``
find it with :func:`get_converter` and write converted files with :func:`convert_checkpoint`.
"""
from .aim import convert_aim
from .alpro import convert_alpro, convert_alpro_visual
from .alpro_imagenet import convert_alpro_imagenet_vit
from .alpro_qa import convert_alpro_qa
from .bevt import convert_bevt_finetune, convert_bevt_image, convert_bevt_pretrain
from .dalle import convert_dalle_encoder
from .dualpath import convert_dualpath, dualpath_state_dict
from .efficient_prompt import convert_efficient_prompt
from .io import Placeholder, load_official_checkpoint, official_state_dict
from .openai_clip import convert_openai_clip
from .registry import convert_checkpoint, converter_names, get_converter, register_converter
from .torchscript import is_torchscript_archive, load_torchscript_state_dict
from .xclip import convert_xclip

__all__ = [
    'load_official_checkpoint', 'official_state_dict', 'Placeholder', 'register_converter', 'get_converter',
    'converter_names', 'convert_checkpoint', 'convert_aim', 'convert_dualpath', 'dualpath_state_dict',
    'convert_efficient_prompt', 'convert_xclip', 'convert_openai_clip', 'convert_dalle_encoder',
    'convert_bevt_pretrain', 'convert_bevt_finetune', 'convert_bevt_image', 'is_torchscript_archive',
    'load_torchscript_state_dict', 'convert_alpro', 'convert_alpro_visual', 'convert_alpro_qa',
    'convert_alpro_imagenet_vit'
]
