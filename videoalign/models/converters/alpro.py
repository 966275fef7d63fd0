"""Official ALPRO checkpoints (salesforce/ALPRO) to videoalign's layout: the video-encoder building block.

ALPRO's files (alpro.md §5) are plain model state dicts (LAVIS's: ``{'model': state_dict}``) whose video encoder sits
under ``visual_encoder.model.`` (the official ``VisionTransformer`` inside its ``TimeSformer`` wrapper); a pretraining
checkpoint holds a second one under ``prompter.visual_encoder.model.``. :func:`convert_alpro_visual` maps one such
encoder to :class:`~videoalign.models.backbones.ALPROTimeSformer`, i.e. mmaction2's ``TimeSformer`` names
(bevt_alpro_build.md §3, verified strict against the official class):

==================================  ===========================================================
official (under the prefix)         videoalign
==================================  ===========================================================
``blocks.N.temporal_norm1``         ``transformer_layers.layers.N.attentions.0.norm``
``blocks.N.temporal_attn.qkv``      ``transformer_layers.layers.N.attentions.0.attn.in_proj_*``
``blocks.N.temporal_attn.proj``     ``transformer_layers.layers.N.attentions.0.attn.out_proj``
``blocks.N.temporal_fc``            ``transformer_layers.layers.N.attentions.0.temporal_fc``
``blocks.N.norm1``                  ``transformer_layers.layers.N.attentions.1.norm``
``blocks.N.attn.qkv``               ``transformer_layers.layers.N.attentions.1.attn.in_proj_*``
``blocks.N.attn.proj``              ``transformer_layers.layers.N.attentions.1.attn.out_proj``
``blocks.N.norm2``                  ``transformer_layers.layers.N.ffns.0.norm``
``blocks.N.mlp.fc1``                ``transformer_layers.layers.N.ffns.0.layers.0.0``
``blocks.N.mlp.fc2``                ``transformer_layers.layers.N.ffns.0.layers.1``
``patch_embed.proj``                ``patch_embed.projection``
``cls_token``, ``pos_embed``,       unchanged
``time_embed``, ``norm``
``head``                            dropped (an unused 400-class layer)
==================================  ===========================================================

timm's fused ``qkv`` Linear and ``nn.MultiheadAttention``'s ``in_proj`` share the layout (q, k, v stacked, heads
contiguous), so the tensors are copied as they are. ``pos_embed`` / ``time_embed`` of another length (ALPRO
pretrains with 4 frames) are resized by the model when it loads them, not here.

The full-model ALPRO converters (text and fusion BERT, projections, heads, prompter) are to be built on this function;
none is registered yet.
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch

from .io import check_unmapped, official_state_dict

__all__ = ['convert_alpro_visual', 'ALPRO_VISUAL_PREFIX']

#: Where the official ALPRO model keeps its video encoder (the prompter's: ``'prompter.' + ALPRO_VISUAL_PREFIX``).
ALPRO_VISUAL_PREFIX = 'visual_encoder.model.'

#: Official names inside ``blocks.N.`` -> names inside ``transformer_layers.layers.N.``.
BLOCK_KEYS = {
    'temporal_norm1.weight': 'attentions.0.norm.weight',
    'temporal_norm1.bias': 'attentions.0.norm.bias',
    'temporal_attn.qkv.weight': 'attentions.0.attn.in_proj_weight',
    'temporal_attn.qkv.bias': 'attentions.0.attn.in_proj_bias',
    'temporal_attn.proj.weight': 'attentions.0.attn.out_proj.weight',
    'temporal_attn.proj.bias': 'attentions.0.attn.out_proj.bias',
    'temporal_fc.weight': 'attentions.0.temporal_fc.weight',
    'temporal_fc.bias': 'attentions.0.temporal_fc.bias',
    'norm1.weight': 'attentions.1.norm.weight',
    'norm1.bias': 'attentions.1.norm.bias',
    'attn.qkv.weight': 'attentions.1.attn.in_proj_weight',
    'attn.qkv.bias': 'attentions.1.attn.in_proj_bias',
    'attn.proj.weight': 'attentions.1.attn.out_proj.weight',
    'attn.proj.bias': 'attentions.1.attn.out_proj.bias',
    'norm2.weight': 'ffns.0.norm.weight',
    'norm2.bias': 'ffns.0.norm.bias',
    'mlp.fc1.weight': 'ffns.0.layers.0.0.weight',
    'mlp.fc1.bias': 'ffns.0.layers.0.0.bias',
    'mlp.fc2.weight': 'ffns.0.layers.1.weight',
    'mlp.fc2.bias': 'ffns.0.layers.1.bias',
}

#: Official names outside the blocks -> videoalign names (None: dropped).
OTHER_KEYS = {
    'cls_token': 'cls_token',
    'pos_embed': 'pos_embed',
    'time_embed': 'time_embed',
    'patch_embed.proj.weight': 'patch_embed.projection.weight',
    'patch_embed.proj.bias': 'patch_embed.projection.bias',
    'norm.weight': 'norm.weight',
    'norm.bias': 'norm.bias',
    'head.weight': None,
    'head.bias': None,
}

_BLOCK = re.compile(r'blocks\.(\d+)\.(.+)')


def convert_alpro_visual(state_dict: Mapping, prefix: str = ALPRO_VISUAL_PREFIX) -> Dict[str, torch.Tensor]:
    """Map the official ALPRO video encoder (the keys under ``prefix``) to ``ALPROTimeSformer``'s keys.

    The building block of the ALPRO checkpoint converters: it reads only the keys under ``prefix`` and ignores the
    others (text encoder, heads, prompter), which the full-model converters map.

    Args:
        state_dict (Mapping): An official ALPRO (or LAVIS ALPRO) state dict, or the loaded file holding it under
            ``'model'`` or ``'state_dict'``; a DDP ``module.`` prefix is removed.
        prefix (str): Where the encoder's keys are. Defaults to ``'visual_encoder.model.'``; the prompter's is
            ``'prompter.visual_encoder.model.'``, and ``''`` takes a bare ``VisionTransformer`` state dict.

    Returns:
        dict: The state dict of ``ALPROTimeSformer`` (no prefix); ``head.*`` is dropped.

    Raises:
        KeyError: Naming the keys under ``prefix`` that are not official TimeSformer keys, or if no key is under
            ``prefix``.
    """
    state = official_state_dict(state_dict, ('model', 'state_dict'), 'ALPRO')
    converted, unmapped, found = OrderedDict(), [], False
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        found = True
        name = key[len(prefix):]
        block = _BLOCK.fullmatch(name)
        if block is not None and block.group(2) in BLOCK_KEYS:
            converted[f'transformer_layers.layers.{block.group(1)}.{BLOCK_KEYS[block.group(2)]}'] = value
        elif name in OTHER_KEYS:
            if OTHER_KEYS[name] is not None:
                converted[OTHER_KEYS[name]] = value
        else:
            unmapped.append(key)
    if not found:
        raise KeyError(f'no key of the state dict starts with {prefix!r}, where the ALPRO video encoder was '
                       f'expected; first keys: {", ".join(list(state)[:5])}')
    check_unmapped(unmapped, 'ALPRO video encoder')
    return converted
