"""timm's ImageNet ViT-B/16 to the initial weights of ALPRO's TimeSformer (``ALPROTimeSformer``).

ALPRO starts its video encoder from timm's ``vit_base_patch16_224`` (``jx_vit_base_p16_224-80ecf9dd.pth``, the
ImageNet-21k pretrained, ImageNet-1k fine-tuned ViT-B/16). The official ``load_pretrained_imagenet``
(salesforce/ALPRO ``src/modeling/timesformer/helpers.py``):

1. drops the classifier ``head.*``;
2. in every block, copies the spatial attention ``attn.*`` to ``temporal_attn.*`` and ``norm1.*`` to
   ``temporal_norm1.*``;
3. loads the result non-strictly, so ``time_embed`` and every block's ``temporal_fc`` keep their initial values
   (mmaction2's: zeros, which make each temporal attention a no-op at the start).

The registered converter ``alpro_imagenet_vit`` (:func:`convert_alpro_imagenet_vit`) does the same copies and maps
the resulting official TimeSformer keys to ``ALPROTimeSformer``'s with
:func:`~videoalign.models.converters.alpro.convert_alpro_visual` (``prefix=''``). The converted state dict has no
``time_embed`` and no ``temporal_fc``: load it with ``strict=False`` (mmengine's ``Pretrained`` init does), e.g.
``init_cfg=dict(type='Pretrained', checkpoint='videoalign://timm/vit-base-p16-224_in1k')``.
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch

from .alpro import convert_alpro_visual
from .io import check_unmapped, official_state_dict
from .registry import register_converter

__all__ = ['convert_alpro_imagenet_vit', 'imagenet_vit_to_timesformer']

#: timm ViT keys outside the blocks (``head.*`` is dropped by the official loader).
VIT_KEYS = ('cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', 'norm.weight', 'norm.bias',
            'head.weight', 'head.bias')
#: timm ViT keys inside ``blocks.N.``.
VIT_BLOCK_KEYS = tuple(f'{module}.{param}'
                       for module in ('norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2')
                       for param in ('weight', 'bias'))
#: Block keys copied to the temporal branch: spatial name -> temporal name (``load_pretrained_imagenet``).
TEMPORAL_COPIES = {
    'norm1.weight': 'temporal_norm1.weight',
    'norm1.bias': 'temporal_norm1.bias',
    'attn.qkv.weight': 'temporal_attn.qkv.weight',
    'attn.qkv.bias': 'temporal_attn.qkv.bias',
    'attn.proj.weight': 'temporal_attn.proj.weight',
    'attn.proj.bias': 'temporal_attn.proj.bias',
}
#: Keys every ViT state dict must have.
REQUIRED_KEYS = ('cls_token', 'pos_embed', 'patch_embed.proj.weight')

_BLOCK = re.compile(r'blocks\.(\d+)\.(.+)')


def imagenet_vit_to_timesformer(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The official TimeSformer state dict that ``load_pretrained_imagenet`` makes of a timm ViT.

    Args:
        checkpoint (Mapping): timm's ViT state dict, or the loaded file holding it under ``'model'`` or
            ``'state_dict'``; a DDP ``module.`` prefix is removed.

    Returns:
        dict: Official TimeSformer (``VisionTransformer``) keys: the ViT's without ``head.*``, plus
        ``blocks.N.temporal_attn.*`` and ``blocks.N.temporal_norm1.*`` (the same tensors as the spatial ones).

    Raises:
        KeyError: Naming the keys that are not timm ViT keys (e.g. ``time_embed``: already a TimeSformer), or the
            missing ones.
    """
    state = official_state_dict(checkpoint, ('model', 'state_dict'), 'timm ViT')
    official, unmapped = OrderedDict(), []
    for key, value in state.items():
        block = _BLOCK.fullmatch(key)
        if block is not None and block.group(2) in VIT_BLOCK_KEYS:
            official[key] = value
        elif key in VIT_KEYS:
            if not key.startswith('head.'):
                official[key] = value
        else:
            unmapped.append(key)
    check_unmapped(unmapped, 'timm ViT')
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if not any(_BLOCK.fullmatch(key) for key in state):
        missing.append('blocks.*')
    if missing:
        raise KeyError(f'missing timm ViT keys: {", ".join(missing)}')
    for key in list(official):
        block = _BLOCK.fullmatch(key)
        if block is not None and block.group(2) in TEMPORAL_COPIES:
            official[f'blocks.{block.group(1)}.{TEMPORAL_COPIES[block.group(2)]}'] = official[key]
    return official


def convert_alpro_imagenet_vit(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Convert timm's ImageNet ViT (``vit_base_patch16_224``) to ALPRO's initial TimeSformer (see the module).

    Args:
        checkpoint (Mapping): timm's ViT state dict (``cls_token``, ``pos_embed``, ``patch_embed.proj.*``,
            ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``, ``norm.*``, ``head.*``), or the loaded
            file holding it under ``'model'`` or ``'state_dict'``.

    Returns:
        dict: ``ALPROTimeSformer`` keys (no prefix), the temporal attention and its norm copies of the spatial ones;
        no ``time_embed`` nor ``temporal_fc`` (they keep their initial values, as in the official loader).

    Raises:
        KeyError: Naming the keys that are not timm ViT keys, or the missing ones.
    """
    return convert_alpro_visual(imagenet_vit_to_timesformer(checkpoint), prefix='')


register_converter('alpro_imagenet_vit')(convert_alpro_imagenet_vit)
