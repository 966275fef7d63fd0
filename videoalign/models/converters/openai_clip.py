"""OpenAI CLIP weights to the plain state dict that ``CLIPPretrained`` loads (OpenAI's key layout).

OpenAI's archives (``ViT-B-16.pt``, ...) hold, besides the weights, the sizes ``input_resolution``,
``context_length`` and ``vocab_size`` as tensors, and the text tower's causal ``attn_mask``; these are dropped. The
keys keep OpenAI's names: ``visual.conv1.weight``, ``visual.transformer.resblocks.{i}.*``, ``token_embedding.weight``,
``transformer.resblocks.{i}.*``, ``ln_final.*``, ``text_projection``, ``logit_scale``. Dtypes are kept (the archives
are partly float16; ``load_state_dict`` casts on copy).
"""
from collections import OrderedDict
from typing import Any, Dict, Mapping, Sequence

import torch

from .io import load_official_checkpoint, official_state_dict
from .registry import register_converter
from .torchscript import is_torchscript_archive, load_torchscript_state_dict

__all__ = ['convert_openai_clip', 'read_clip_file', 'NON_WEIGHT_KEYS']

NON_WEIGHT_KEYS = ('input_resolution', 'context_length', 'vocab_size')
REQUIRED_KEYS = ('visual.conv1.weight', 'token_embedding.weight')
# text-tower keys that open_clip's CustomTextCLIP nests under ``text.``
_CUSTOM_TEXT_KEYS = ('token_embedding', 'positional_embedding', 'transformer.', 'ln_final', 'text_projection')


def read_clip_file(path: str) -> Any:
    """An OpenAI TorchScript archive's tensors (read as data: no TorchScript is loaded or run), or a ``torch.save``
    file read by :func:`~videoalign.models.converters.io.load_official_checkpoint`."""
    return load_torchscript_state_dict(path) if is_torchscript_archive(path) else load_official_checkpoint(path)


@register_converter('clip', read=read_clip_file)
def convert_openai_clip(checkpoint: Mapping, required: Sequence[str] = REQUIRED_KEYS) -> Dict[str, torch.Tensor]:
    """Keep the weights of an OpenAI CLIP state dict (from a TorchScript archive, ``torch.save`` or open_clip).

    Args:
        checkpoint (Mapping): The tensors by name, or a dict holding them under ``'state_dict'`` or ``'model'``; a
            ``module.`` prefix is removed, and so is the ``text.`` of open_clip's ``CustomTextCLIP``.
        required (Sequence[str]): Keys that must be there. Defaults to ``visual.conv1.weight`` and
            ``token_embedding.weight`` (a whole CLIP).

    Returns:
        dict[str, torch.Tensor]: The weights in OpenAI's layout.

    Raises:
        KeyError: If a required key is missing (not an OpenAI CLIP model), or no weight is left.
    """
    out = OrderedDict()
    for key, value in official_state_dict(checkpoint, ('state_dict', 'model'), 'OpenAI CLIP').items():
        if key.startswith('text.') and key[len('text.'):].startswith(_CUSTOM_TEXT_KEYS):
            key = key[len('text.'):]
        if not torch.is_tensor(value) or key in NON_WEIGHT_KEYS or key.split('.')[-1] == 'attn_mask':
            continue
        out[key] = value
    missing = [key for key in required if key not in out]
    if missing or not out:
        raise KeyError(f'not an OpenAI CLIP state dict: no {", ".join(missing) or "weights"} among {len(out)} '
                       'tensors')
    return out
