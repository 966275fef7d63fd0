"""Official BEVT checkpoints (xyzforever/BEVT) to videoalign's layout: three converters.

BEVT publishes two files (bevt.md §8): the **joint pretraining** checkpoint (mmcv's ``{'meta', 'state_dict',
'optimizer'}`` of ``BEVTMultiSource``) and the **stage-1 image-stream** checkpoint (a 2D Swin-B). Their keys:

- joint: ``backbone.*`` (``SwinTransformerBEVT``: ``patch_embed.*`` (3D), ``patch_embed_2d.*``, ``mask_token``,
  ``layers.*``, ``norm.*`` and the decoders ``lm_down.*``, ``fpn.0.*``, ``lm_down_st.0.*``, ``fpn_s.0.*``,
  ``fpn_t.0.*``), ``cls_head.lm_head.*`` and ``cls_head.vae_encoder.blocks.*`` (the frozen DALL-E encoder);
- image: a 2D Swin whose keys may carry ``module.``, ``backbone.`` and ``encoder.`` prefixes: ``patch_embed.*``
  (2D), ``layers.*`` (2D relative-position tables, ``attn_mask`` buffers), ``norm.*`` or ``fc_norm.*``.

=================  ======================  ====================================================================
converter          official file           videoalign keys
=================  ======================  ====================================================================
``bevt_pretrain``  joint                   ``BEVTPretrainer``: the official names (``backbone.*``,
                                           ``cls_head.lm_head.*``, ``cls_head.vae_encoder.*``)
``bevt_finetune``  joint                   mmaction2's ``SwinTransformer3D`` under ``backbone.`` (a recognizer's
                                           backbone); ``norm.*`` -> ``norm3.*``; the tables optionally
                                           interpolated to a longer window (SSv2: (16, 7, 7))
``bevt_image``     image                   ``SwinTransformerBEVT`` under ``backbone.``, inflated as the
                                           official ``inflate_weights`` does
=================  ======================  ====================================================================

``relative_position_index`` buffers: the official loaders drop them (the models compute them from the window).
mmaction2's ``WindowAttention3D``, which both ``SwinTransformer3D`` and videoalign's ``SwinTransformerBEVT`` use,
keeps the index in its state dict, so the converters replace each one by the index computed for the target window
(the formula of the official and mmaction2 classes, one tensor shared by all blocks, stored once), and the result
loads strictly. ``write_position_index=False`` leaves them out, as the official loaders do.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from .io import _under, official_state_dict
from .registry import register_converter

__all__ = [
    'convert_bevt_pretrain', 'convert_bevt_finetune', 'convert_bevt_image', 'relative_position_index',
    'interpolate_position_bias_table', 'inflate_position_bias_table'
]

StateDict = Dict[str, torch.Tensor]

#: The window of the released checkpoints (``(Wd, Wh, Ww)``, bevt.md §2.1).
PRETRAINED_WINDOW = (8, 7, 7)

#: The parameters of one ``SwinTransformerBlock3D`` (``layers.<i>.blocks.<j>.*``), official and mmaction2 names.
BLOCK_KEYS = ('norm1.weight', 'norm1.bias', 'attn.relative_position_bias_table', 'attn.qkv.weight', 'attn.qkv.bias',
              'attn.proj.weight', 'attn.proj.bias', 'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
              'mlp.fc2.weight', 'mlp.fc2.bias')
#: Buffers of a block that the models recompute: the relative-position index, and a 2D Swin's shifted-window mask.
BLOCK_BUFFERS = ('attn.relative_position_index', 'attn_mask')
#: The ``PatchMerging`` at the end of every stage but the last (``layers.<i>.downsample.*``).
DOWNSAMPLE_KEYS = ('reduction.weight', 'norm.weight', 'norm.bias')

#: ``SwinTransformerBEVT``'s keys outside ``layers.*`` (official names, kept by videoalign).
PATCH_EMBED_KEYS = ('patch_embed.proj.weight', 'patch_embed.proj.bias', 'patch_embed.norm.weight',
                    'patch_embed.norm.bias')
PATCH_EMBED_2D_KEYS = tuple(k.replace('patch_embed.', 'patch_embed_2d.') for k in PATCH_EMBED_KEYS)
DECODER_KEYS = ('lm_down.weight', 'lm_down.bias', 'fpn.0.weight', 'fpn.0.bias', 'lm_down_st.0.weight',
                'lm_down_st.0.bias', 'fpn_s.0.weight', 'fpn_s.0.bias', 'fpn_t.0.weight', 'fpn_t.0.bias')
BACKBONE_KEYS = PATCH_EMBED_KEYS + PATCH_EMBED_2D_KEYS + ('mask_token', 'norm.weight', 'norm.bias') + DECODER_KEYS

#: The head of the joint checkpoint (``BEVTMultiSourceHead``; videoalign's ``MaskedTokenHead``).
HEAD_KEYS = ('cls_head.lm_head.weight', 'cls_head.lm_head.bias')
#: The DALL-E encoder's keys (``dall_e.Encoder`` and mmpretrain's ``DALL-E``), under ``cls_head.vae_encoder.``.
VAE_PREFIX = 'cls_head.vae_encoder.'
VAE_KEY = re.compile(r'^blocks\.(input\.[wb]|output\.conv\.[wb]|'
                     r'group_\d+\.block_\d+\.(id_path|res_path\.conv_\d+)\.[wb])$')
VAE_REQUIRED = ('blocks.input.w', 'blocks.input.b', 'blocks.output.conv.w', 'blocks.output.conv.b')

#: ``bevt_finetune``: (official prefix, videoalign prefix or None to drop), after ``backbone.``/``encoder.`` are
#: stripped. The dropped ones are what the official fine-tune loader ignores (bevt.md pitfall 7).
FINETUNE_PREFIXES = (
    ('patch_embed.', 'patch_embed.'),
    ('layers.', 'layers.'),
    ('norm.', 'norm3.'),
    ('patch_embed_2d.', None),
    ('mask_token', None),
    ('lm_down.', None),
    ('lm_down_st.', None),
    ('fpn.', None),
    ('fpn_s.', None),
    ('fpn_t.', None),
    ('cls_head.', None),  # lm_head and the DALL-E encoder (cls_head.vae_encoder.*)
)

#: ``bevt_image``: keys of the image-stream file that are no part of the backbone, dropped as the official
#: ``inflate_weights`` (a ``strict=False`` load into the backbone) ignores them: a classifier (``head``), a masked
#: image modelling head (``lm_head``, ``cls_head``), a decoder and ``fc_norm`` (copied to ``norm`` first).
IMAGE_DROPPED = ('head.', 'lm_head.', 'cls_head.', 'decoder.', 'fc_norm.')

_LAYER_KEY = re.compile(r'^layers\.(\d+)\.(?:blocks\.(\d+)\.(.+)|downsample\.(.+))$')
_OFFICIAL_PREFIXES = ('module.', 'backbone.', 'encoder.')


def _window(value: Sequence[int], name: str) -> Tuple[int, int, int]:
    """A ``(Wd, Wh, Ww)`` option (a list from a metafile, a tuple from the command line) as a tuple of ints."""
    window = tuple(value) if isinstance(value, (list, tuple)) else ()
    if len(window) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in window):
        raise ValueError(f'{name} must be three positive integers (Wd, Wh, Ww), got {value!r}')
    return window


def _table_length(window: Sequence[int]) -> int:
    """Rows of the 3D relative-position table of ``window``: ``(2Wd-1)(2Wh-1)(2Ww-1)``."""
    return (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)


def _strip_official_prefixes(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Strip ``module.``, then ``backbone.``, then ``encoder.`` from the start of every key, each at most once, as
    the official loaders' ``re.sub(r'^module\\.', '')`` ... do."""
    out = OrderedDict()
    for key, value in state.items():
        for prefix in _OFFICIAL_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def _raise_key_errors(missing: Sequence[str], unexpected: Sequence[str], method: str) -> None:
    """Raise one ``KeyError`` naming (up to ten of each) the missing and the unexpected keys, if there are any."""

    def names(keys: Sequence[str]) -> str:
        return ', '.join(keys[:10]) + (f' ... ({len(keys)} in all)' if len(keys) > 10 else '')

    parts = []
    if unexpected:
        parts.append(f'not {method} keys (no mapping): {names(unexpected)}')
    if missing:
        parts.append(f'missing {method} keys: {names(missing)}')
    if parts:
        raise KeyError('; '.join(parts))


def _check_layers(keys: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Check that the ``layers.*`` keys form complete Swin stages: stages ``0 .. S-1``, blocks ``0 .. d-1`` each
    with every :data:`BLOCK_KEYS` entry, and a ``downsample`` after every stage but the last.

    Args:
        keys (Sequence[str]): Keys under ``layers.`` (without a model prefix).

    Returns:
        tuple[list[str], list[str]]: The missing and the unexpected keys.
    """
    blocks: Dict[int, Dict[int, set]] = {}
    downsample: Dict[int, set] = {}
    unexpected = []
    for key in keys:
        match = _LAYER_KEY.match(key)
        if match is None:
            unexpected.append(key)
        elif match.group(2) is not None:
            if match.group(3) in BLOCK_KEYS or match.group(3) in BLOCK_BUFFERS:
                blocks.setdefault(int(match.group(1)), {}).setdefault(int(match.group(2)), set()).add(match.group(3))
            else:
                unexpected.append(key)
        elif match.group(4) in DOWNSAMPLE_KEYS:
            downsample.setdefault(int(match.group(1)), set()).add(match.group(4))
        else:
            unexpected.append(key)
    stages = sorted(set(blocks) | set(downsample))
    missing = []
    if not stages:
        missing.append('layers.0.blocks.0.*')
    for stage in range(max(stages, default=-1) + 1):
        stage_blocks = blocks.get(stage, {})
        if not stage_blocks:
            missing.append(f'layers.{stage}.blocks.0.*')
        for block in range(max(stage_blocks, default=-1) + 1):
            present = stage_blocks.get(block, set())
            missing += [f'layers.{stage}.blocks.{block}.{name}' for name in BLOCK_KEYS if name not in present]
        if stage < stages[-1]:
            present = downsample.get(stage, set())
            missing += [f'layers.{stage}.downsample.{name}' for name in DOWNSAMPLE_KEYS if name not in present]
        elif stage in downsample:
            unexpected += [f'layers.{stage}.downsample.{name}' for name in sorted(downsample[stage])]
    return missing, unexpected


def _is_buffer(key: str) -> bool:
    """Whether a ``layers.*`` key is a buffer the models recompute (relative-position index, attention mask)."""
    return key.endswith('.attn.relative_position_index') or key.endswith('.attn_mask')


def relative_position_index(window_size: Sequence[int]) -> torch.Tensor:
    """The relative-position index of a 3D window, as ``WindowAttention3D`` (official and mmaction2) computes it.

    Args:
        window_size (Sequence[int]): ``(Wd, Wh, Ww)``.

    Returns:
        torch.Tensor: int64 ``(N, N)`` with ``N = Wd * Wh * Ww``: the row of the table for each pair of tokens.
    """
    wd, wh, ww = window_size
    coords = torch.stack(torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing='ij'))
    coords = coords.flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    relative[:, :, 0] += wd - 1
    relative[:, :, 1] += wh - 1
    relative[:, :, 2] += ww - 1
    relative[:, :, 0] *= (2 * wh - 1) * (2 * ww - 1)
    relative[:, :, 1] *= 2 * ww - 1
    return relative.sum(-1)


def interpolate_position_bias_table(table: torch.Tensor, pretrained_window_size: Sequence[int],
                                    window_size: Sequence[int]) -> torch.Tensor:
    """Resize a 3D relative-position table to another window, as the official ``SwinTransformer3D.init_weights``.

    The official code (``pretrained_window_size`` set, table lengths differ): the table ``(L1, nH)`` is permuted to
    ``(nH, L1)``, viewed as ``(1, nH, 2Pd-1, 2Ph-1, 2Pw-1)``, interpolated ``mode='trilinear'`` (``align_corners``
    left at its default) to ``(2Wd-1, 2Wh-1, 2Ww-1)``, viewed as ``(nH, L2)`` and permuted back. (The official code
    takes ``2Ph-1`` for both spatial sides; BEVT's windows are square.) A table of the target length is returned as
    it is, as the official code leaves it.

    Args:
        table (torch.Tensor): ``(L1, nH)``.
        pretrained_window_size (Sequence[int]): The window the table was trained with.
        window_size (Sequence[int]): The target window.

    Returns:
        torch.Tensor: ``(L2, nH)``, contiguous.

    Raises:
        ValueError: If the table has neither the pretrained nor the target length.
    """
    length, heads = table.shape
    target = _table_length(window_size)
    if length == target:
        return table
    if length != _table_length(pretrained_window_size):
        raise ValueError(f'a relative-position table of {length} rows fits neither the pretrained window '
                         f'{tuple(pretrained_window_size)} ({_table_length(pretrained_window_size)} rows) nor the '
                         f'window {tuple(window_size)} ({target} rows): give the windows of the checkpoint and of the '
                         f'model (e.g. --options pretrained_window_size=2,2,2 window_size=2,2,2)')
    source = tuple(2 * w - 1 for w in pretrained_window_size)
    resized = F.interpolate(
        table.permute(1, 0).view(1, heads, *source), size=tuple(2 * w - 1 for w in window_size), mode='trilinear')
    return resized.view(heads, target).permute(1, 0).contiguous()


def inflate_position_bias_table(table: torch.Tensor, window_size: Sequence[int]) -> torch.Tensor:
    """A 2D relative-position table to the 3D table of ``window_size``, as the official ``inflate_weights``.

    If the table does not have ``(2Wh-1)(2Ww-1)`` rows, it is viewed as a square ``(1, nH, S, S)`` grid and resized
    ``mode='bicubic'`` (``align_corners`` default) to ``(2Wh-1, 2Ww-1)``; then it is repeated ``2Wd-1`` times, one
    copy per temporal offset (``table.repeat(2Wd-1, 1)``).

    Args:
        table (torch.Tensor): ``(L, nH)``.
        window_size (Sequence[int]): The 3D window ``(Wd, Wh, Ww)``.

    Returns:
        torch.Tensor: ``((2Wd-1)(2Wh-1)(2Ww-1), nH)``.

    Raises:
        ValueError: If the table is to be resized but ``L`` is not a square.
    """
    length, heads = table.shape
    wd, wh, ww = window_size
    target = (2 * wh - 1) * (2 * ww - 1)
    if length != target:
        side = int(length**0.5)
        if side * side != length:
            raise ValueError(f'a 2D relative-position table of {length} rows is not a square grid; expected '
                             f'{target} rows for the window {wh}x{ww}')
        resized = F.interpolate(
            table.permute(1, 0).view(1, heads, side, side), size=(2 * wh - 1, 2 * ww - 1), mode='bicubic')
        table = resized.view(heads, target).permute(1, 0)
    return table.repeat(2 * wd - 1, 1)


def _check_tables(state: Mapping[str, torch.Tensor], window_size: Sequence[int], method: str) -> None:
    """Raise a ``ValueError`` if a relative-position table does not fit ``window_size``."""
    length = _table_length(window_size)
    wrong = [
        f'{k} {tuple(v.shape)}' for k, v in state.items()
        if k.endswith('relative_position_bias_table') and (v.dim() != 2 or v.shape[0] != length)
    ]
    if wrong:
        raise ValueError(f'{method}: relative-position tables that do not fit the window {tuple(window_size)} '
                         f'({length} rows): {", ".join(wrong[:5])}{" ..." if len(wrong) > 5 else ""}; set '
                         f'window_size to the window the checkpoint was trained with')


def _add_position_index(state: StateDict, window_size: Sequence[int], prefix: str = '') -> None:
    """Insert, after each block's table, the index of ``window_size`` (one tensor shared by all blocks)."""
    index = relative_position_index(window_size)
    out = OrderedDict()
    for key, value in state.items():
        out[key] = value
        if key.startswith(prefix + 'layers.') and key.endswith('.attn.relative_position_bias_table'):
            out[key[:-len('relative_position_bias_table')] + 'relative_position_index'] = index
    state.clear()
    state.update(out)


@register_converter('bevt_pretrain')
def convert_bevt_pretrain(checkpoint: Mapping,
                          window_size: Sequence[int] = PRETRAINED_WINDOW,
                          write_position_index: bool = True) -> StateDict:
    """The official joint pretraining checkpoint to videoalign's ``BEVTPretrainer``: the official names.

    The file's ``state_dict`` (or ``model``; a ``module.`` prefix removed) holds ``backbone.*``, ``cls_head.lm_head.*``
    and ``cls_head.vae_encoder.*`` (the DALL-E encoder, whose ``blocks.*`` names are those of videoalign's
    ``DALLETargetGenerator``); the key set is checked against ``SwinTransformerBEVT`` (complete stages, both patch
    embeddings, the mask token, the final norm, both decoders) and the head, and every name is kept. The
    ``relative_position_index`` buffers are replaced by the index of ``window_size``; ``attn_mask`` buffers, if any,
    are dropped.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.
        window_size (Sequence[int]): The backbone's window; every table must fit it. Defaults to ``(8, 7, 7)``.
        write_position_index (bool): Write the index buffers (mmaction2's blocks keep them in their state dict).
            Defaults to True.

    Returns:
        dict[str, torch.Tensor]: The state dict of ``BEVTPretrainer``.

    Raises:
        KeyError: Naming the missing keys and the keys that are not BEVT's.
        ValueError: If a relative-position table does not fit ``window_size``.
    """
    method = 'BEVT joint pretraining'
    window_size = _window(window_size, 'window_size')
    state = official_state_dict(checkpoint, ('state_dict', 'model'), method)
    converted, layer_keys, unexpected = OrderedDict(), [], []
    for key, value in state.items():
        if key.startswith('backbone.'):
            name = key[len('backbone.'):]
            if name.startswith('layers.'):
                layer_keys.append(name)
                if _is_buffer(name):
                    continue
            elif name not in BACKBONE_KEYS:
                unexpected.append(key)
                continue
        elif key.startswith(VAE_PREFIX):
            if not VAE_KEY.match(key[len(VAE_PREFIX):]):
                unexpected.append(key)
                continue
        elif key not in HEAD_KEYS:
            unexpected.append(key)
            continue
        converted[key] = value
    missing, wrong = _check_layers(layer_keys)
    unexpected += ['backbone.' + k for k in wrong]
    missing = ['backbone.' + k for k in missing]
    missing += [f'backbone.{k}' for k in BACKBONE_KEYS if f'backbone.{k}' not in state]
    missing += [k for k in HEAD_KEYS + tuple(VAE_PREFIX + k for k in VAE_REQUIRED) if k not in state]
    _raise_key_errors(missing, unexpected, method)
    _check_tables(converted, window_size, method)
    if write_position_index:
        _add_position_index(converted, window_size, prefix='backbone.')
    return converted


@register_converter('bevt_finetune')
def convert_bevt_finetune(checkpoint: Mapping,
                          window_size: Optional[Sequence[int]] = None,
                          pretrained_window_size: Sequence[int] = PRETRAINED_WINDOW,
                          write_position_index: bool = True) -> StateDict:
    """The official joint pretraining checkpoint to the fine-tune backbone, mmaction2's ``SwinTransformer3D``.

    As the official fine-tune loader (``SwinTransformer3D.init_weights`` with ``pretrained2d=False``): the prefixes
    ``module.``, ``backbone.`` and ``encoder.`` are stripped, the pretraining-only keys dropped (``patch_embed_2d.*``,
    ``mask_token``, ``lm_down*``, ``fpn*``, ``cls_head.*`` including the DALL-E encoder), the relative-position
    index replaced (see the module), and the pretraining ``norm`` (which normalised the decoder output) becomes the
    final norm, mmaction2's ``norm3``. With ``window_size`` longer than the pretrained window (SSv2: ``(16, 7, 7)``)
    every table is interpolated trilinearly (:func:`interpolate_position_bias_table`). The keys come out under
    ``backbone.``, the recognizer's (load them with ``load_from`` or ``init_cfg=dict(type='Pretrained', ...,
    prefix='backbone.')``).

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.
        window_size (Sequence[int], optional): The fine-tune window; None keeps ``pretrained_window_size``.
            Defaults to None.
        pretrained_window_size (Sequence[int]): The window of the checkpoint. Defaults to ``(8, 7, 7)``.
        write_position_index (bool): Write the index buffers of ``window_size`` (mmaction2's ``SwinTransformer3D``
            keeps them in its state dict). Defaults to True.

    Returns:
        dict[str, torch.Tensor]: ``backbone.*`` of a recognizer with a ``SwinTransformer3D`` backbone
        (``out_indices=(3, )``).

    Raises:
        KeyError: Naming the missing keys and the keys that are not BEVT's.
        ValueError: If a relative-position table fits neither window.
    """
    method = 'BEVT joint pretraining'
    pretrained_window_size = _window(pretrained_window_size, 'pretrained_window_size')
    window_size = pretrained_window_size if window_size is None else _window(window_size, 'window_size')
    state = _strip_official_prefixes(official_state_dict(checkpoint, ('state_dict', 'model'), method))
    converted, layer_keys, unexpected = OrderedDict(), [], []
    for key, value in state.items():
        pair = next(((old, new) for old, new in FINETUNE_PREFIXES if _under(key, old)), None)
        if pair is None or (pair[0] in ('patch_embed.', 'norm.') and key not in BACKBONE_KEYS):
            unexpected.append(key)
            continue
        if pair[1] is None:
            continue
        if pair[0] == 'layers.':
            layer_keys.append(key)
            if _is_buffer(key):
                continue
            if key.endswith('.relative_position_bias_table'):
                value = interpolate_position_bias_table(value, pretrained_window_size, window_size)
        converted['backbone.' + pair[1] + key[len(pair[0]):]] = value
    missing, wrong = _check_layers(layer_keys)
    unexpected += wrong
    missing += [k for k in PATCH_EMBED_KEYS + ('norm.weight', 'norm.bias') if k not in state]
    _raise_key_errors(missing, unexpected, method)
    if write_position_index:
        _add_position_index(converted, window_size, prefix='backbone.')
    return converted


@register_converter('bevt_image')
def convert_bevt_image(checkpoint: Mapping,
                       window_size: Sequence[int] = PRETRAINED_WINDOW,
                       temporal_patch_size: int = 2,
                       drop_prefixes: Sequence[str] = (),
                       write_position_index: bool = True) -> StateDict:
    """The stage-1 image-stream checkpoint (a 2D Swin) to ``SwinTransformerBEVT``, as the official
    ``inflate_weights``.

    The state dict is ``model``, ``module`` or ``state_dict`` (the first present) or the file itself; the prefixes
    ``module.``, ``backbone.``, ``encoder.`` are stripped; ``relative_position_index`` and ``attn_mask`` buffers are
    dropped; ``fc_norm.*``, if present, becomes ``norm.*``. Then:

    - ``patch_embed_2d.*`` = the 2D ``patch_embed.proj.*`` and ``patch_embed.norm.*``;
    - ``patch_embed.proj.weight`` = ``w2d.unsqueeze(2).repeat(1, 1, Tp, 1, 1) / Tp`` (``Tp = temporal_patch_size``);
    - each ``relative_position_bias_table`` is resized bicubically if it does not have ``(2Wh-1)(2Ww-1)`` rows and
      repeated over the ``2Wd-1`` temporal offsets (:func:`inflate_position_bias_table`).

    The keys come out under ``backbone.``: the pretrainer's backbone (``init_cfg=dict(type='Pretrained', ...,
    prefix='backbone.')`` or ``load_from``; the official load is ``strict=False``). Keys of the backbone's names
    that the file holds besides (``mask_token``, the final ``norm``, the image decoder ``lm_down`` / ``fpn``) are
    kept, as the official load takes them. **Left to initialisation**: every backbone key the file lacks (typically
    ``mask_token`` and the decoders, the video decoder ``lm_down_st`` / ``fpn_s`` / ``fpn_t`` always), and the
    whole head (``cls_head.lm_head``, ``cls_head.vae_encoder``: the official code loads the image stream into the
    backbone only; the DALL-E encoder comes from ``dalle/dvae-encoder``). Dropped, as the official load ignores
    them: ``head.*``, ``lm_head.*``, ``cls_head.*``, ``decoder.*`` (:data:`IMAGE_DROPPED`) and ``drop_prefixes``.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.
        window_size (Sequence[int]): The 3D window of the video model. Defaults to ``(8, 7, 7)``.
        temporal_patch_size (int): ``Tp``, the temporal size of the 3D patch. Defaults to 2.
        drop_prefixes (Sequence[str]): More key prefixes (after the prefixes above are stripped) to drop rather than
            refuse. Defaults to ().
        write_position_index (bool): Write the index buffers of ``window_size``. Defaults to True.

    Returns:
        dict[str, torch.Tensor]: ``backbone.*`` of ``BEVTPretrainer`` (a subset of its backbone's keys).

    Raises:
        KeyError: Naming the missing keys (the 2D patch embedding, incomplete stages) and the unknown keys.
        ValueError: If ``patch_embed.proj.weight`` is not a 2D convolution's, or a table cannot be resized.
    """
    method = 'BEVT image-stream'
    window_size = _window(window_size, 'window_size')
    if isinstance(temporal_patch_size, bool) or not isinstance(temporal_patch_size, int) or temporal_patch_size < 1:
        raise ValueError(f'temporal_patch_size must be a positive integer, got {temporal_patch_size!r}')
    if isinstance(drop_prefixes, str):
        drop_prefixes = (drop_prefixes, )
    dropped = IMAGE_DROPPED + tuple(drop_prefixes)
    state = _strip_official_prefixes(official_state_dict(checkpoint, ('model', 'module', 'state_dict'), method))
    if 'fc_norm.weight' in state:
        state['norm.weight'], state['norm.bias'] = state['fc_norm.weight'], state['fc_norm.bias']
    if 'patch_embed.proj.weight' not in state:
        _raise_key_errors(['patch_embed.proj.weight'], [], method)
    weight = state['patch_embed.proj.weight']
    if weight.dim() != 4:
        raise ValueError(f'{method}: patch_embed.proj.weight of shape {tuple(weight.shape)} is not a 2D patch '
                         f'embedding (C, 3, k, k); for the joint pretraining checkpoint use bevt_pretrain or '
                         f'bevt_finetune')
    for name in ('proj.weight', 'proj.bias', 'norm.weight', 'norm.bias'):
        if f'patch_embed.{name}' in state:
            state[f'patch_embed_2d.{name}'] = state[f'patch_embed.{name}']
    tp = temporal_patch_size
    state['patch_embed.proj.weight'] = weight.unsqueeze(2).repeat(1, 1, tp, 1, 1) / tp

    converted, layer_keys, unexpected = OrderedDict(), [], []
    for key, value in state.items():
        if key.startswith('layers.'):
            layer_keys.append(key)
            if _is_buffer(key):
                continue
            if key.endswith('.relative_position_bias_table'):
                value = inflate_position_bias_table(value, window_size)
        elif any(_under(key, prefix) for prefix in dropped):
            continue
        elif key not in BACKBONE_KEYS:
            unexpected.append(key)
            continue
        converted['backbone.' + key] = value
    missing, wrong = _check_layers(layer_keys)
    _raise_key_errors(missing, unexpected + wrong, method)
    if write_position_index:
        _add_position_index(converted, window_size, prefix='backbone.')
    return converted
