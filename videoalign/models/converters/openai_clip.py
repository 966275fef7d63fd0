"""OpenAI CLIP weights to the plain state dict that ``CLIPPretrained`` loads (OpenAI's key layout).

OpenAI's archives (``ViT-B-16.pt``, ...) hold, besides the weights, the sizes ``input_resolution``,
``context_length`` and ``vocab_size`` as tensors, and the text tower's causal ``attn_mask``; these are dropped. The
keys keep OpenAI's names: ``visual.conv1.weight``, ``visual.transformer.resblocks.{i}.*``, ``token_embedding.weight``,
``transformer.resblocks.{i}.*``, ``ln_final.*``, ``text_projection``, ``logit_scale``. Dtypes are kept (the archives
are partly float16; ``load_state_dict`` casts on copy).
"""
from collections import OrderedDict
from typing import Dict, Mapping

import torch

__all__ = ['convert_openai_clip', 'NON_WEIGHT_KEYS']

NON_WEIGHT_KEYS = ('input_resolution', 'context_length', 'vocab_size')
REQUIRED_KEYS = ('visual.conv1.weight', 'token_embedding.weight')


def convert_openai_clip(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Keep the weights of an OpenAI CLIP state dict (from a TorchScript archive or ``torch.save``).

    Args:
        checkpoint (Mapping): The tensors by name, or a dict holding them under ``'state_dict'`` or ``'model'``; a
            ``module.`` prefix is removed.

    Returns:
        dict[str, torch.Tensor]: The weights in OpenAI's layout.

    Raises:
        KeyError: If ``visual.conv1.weight`` or ``token_embedding.weight`` is missing (not an OpenAI CLIP model).
    """
    state = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state.get(key), Mapping):
            state = state[key]
            break
    out = OrderedDict()
    for key, value in state.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if not torch.is_tensor(value) or key in NON_WEIGHT_KEYS or key.split('.')[-1] == 'attn_mask':
            continue
        out[key] = value
    missing = [key for key in REQUIRED_KEYS if key not in out]
    if missing:
        raise KeyError(f'not an OpenAI CLIP state dict: no {", ".join(missing)} among {len(out)} tensors')
    return out
