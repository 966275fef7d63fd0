"""Official ALPRO checkpoints (salesforce/ALPRO) and LAVIS's copies to videoalign's layout.

ALPRO's files (alpro.md §5) are plain model state dicts (LAVIS's: ``{'model': state_dict}``); the registered
converter ``alpro`` (:func:`convert_alpro`) maps a whole model to the keys of
:class:`~videoalign.models.algorithms.AlproRetrieval` (and, with ``task='pretrain'``, of the pretraining model):

=============================================  ==============================================================
official key                                   videoalign key
=============================================  ==============================================================
``visual_encoder.model.*``                     ``visual_encoder.*``: :func:`convert_alpro_visual` (see below)
``text_encoder.bert.*`` (official) or          ``text_encoder.bert.*`` (``ALPROBert``: HF ``BertModel``
``text_encoder.{embeddings,encoder}.*``        names); the buffer ``embeddings.position_ids`` is dropped
(LAVIS)
``text_encoder.cls.predictions.*``             unchanged with ``task='pretrain'`` (the MLM head); dropped with
                                               ``'retrieval'`` (AlproRetrieval has no MLM head)
``vision_proj``, ``text_proj``, ``itm_head``,  unchanged
``temp``
``mpm_head.{0,2}.*``                           unchanged with ``task='pretrain'``; dropped with ``'retrieval'``
``prompter.*`` (the frozen prompter: the       with ``task='pretrain'``, the same mapping under ``prompter.``
keys above and ``*_prompt_feat``)              (``*_prompt_feat`` unchanged, its unused MLM head dropped);
                                               dropped with ``'retrieval'``
``video_prompt_feat``, ``image_prompt_feat``   unchanged with ``task='pretrain'``; dropped with ``'retrieval'``
(a prompter's own file)
=============================================  ==============================================================

Which files are which, detected from the keys (:func:`detect_alpro_checkpoint`): the **layout** is ``'official'``
(``text_encoder.bert.*``) or ``'lavis'`` (LAVIS's ``AlproBase.load_from_pretrained`` replaces ``'bert.'`` by
``''`` in every key containing ``bert``, and its ``XBertEncoder`` is a ``BertModel`` without MLM head); the **kind**
is ``'pretrain'`` (``prompter.*`` or ``mpm_head.*``, e.g. ``alpro_pretrained_ckpt.pt``) or ``'retrieval'`` (a
fine-tuned retrieval model). With the default ``task='retrieval'`` a pretraining file loads strictly into
``AlproRetrieval`` (zero-shot retrieval). QA checkpoints (``classifier.*``) are refused: the converter ``alpro_qa``
(:mod:`~videoalign.models.converters.alpro_qa`) maps them. The MLM head ``text_encoder.cls.*`` is optional in the
file (a model saved by LAVIS has none): retrieval drops it, pretraining keeps it when it is there.

The video encoder (under ``visual_encoder.model.``, the prompter's under ``prompter.visual_encoder.model.``, in both
layouts: LAVIS's ``TimeSformer`` also keeps its ``VisionTransformer`` as ``model``) maps to
:class:`~videoalign.models.backbones.ALPROTimeSformer`, i.e. mmaction2's ``TimeSformer`` names (bevt_alpro_build.md
§3, verified strict against the official class):

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
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch

from .io import check_unmapped, official_state_dict
from .registry import register_converter

__all__ = ['convert_alpro_visual', 'convert_alpro', 'detect_alpro_checkpoint', 'ALPRO_VISUAL_PREFIX']

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


#: ``task`` values of :func:`convert_alpro`: the model the converted keys are for.
ALPRO_TASKS = ('retrieval', 'pretrain')
#: Keys of one ALPRO model (the student, or the prompter under ``prompter.``) kept as they are.
HEAD_PREFIXES = ('vision_proj.', 'text_proj.', 'itm_head.', 'text_encoder.cls.')
#: The heads every ALPRO model has (``AlproBaseModel.__init__``).
REQUIRED_KEYS = ('temp', 'vision_proj.weight', 'vision_proj.bias', 'text_proj.weight', 'text_proj.bias',
                 'itm_head.weight', 'itm_head.bias')
#: The entity-prompt features of a prompter (``Prompter`` buffers, (num_entities, 256)).
PROMPT_FEATS = ('video_prompt_feat', 'image_prompt_feat')
#: ``BertModel``'s parts that ALPRO keeps (no pooler), under ``text_encoder.bert.`` (official) or ``text_encoder.``.
BERT_PARTS = ('embeddings.', 'encoder.')
OFFICIAL_BERT, LAVIS_BERT = 'text_encoder.bert.', tuple(f'text_encoder.{part}' for part in BERT_PARTS)
POSITION_IDS = 'embeddings.position_ids'
#: The MLM head of the student (BertForMaskedLM's ``cls``), which retrieval does not have.
MLM_HEAD = 'text_encoder.cls.'


def _text_key(name: str) -> Tuple[Optional[str], Optional[str]]:
    """The layout and the ``ALPROBert`` key (under ``bert.``) of a text-encoder key of one model, else Nones."""
    if name.startswith(OFFICIAL_BERT) and name.startswith(BERT_PARTS, len(OFFICIAL_BERT)):
        return 'official', name[len(OFFICIAL_BERT):]
    if name.startswith(LAVIS_BERT):
        return 'lavis', name[len('text_encoder.'):]
    return None, None


def detect_alpro_checkpoint(checkpoint: Mapping) -> Dict[str, str]:
    """Which ALPRO file ``checkpoint`` is, from its keys.

    Args:
        checkpoint (Mapping): An official ALPRO or LAVIS ALPRO file, or its state dict.

    Returns:
        dict: ``layout``: ``'official'`` (``text_encoder.bert.*``) or ``'lavis'`` (``text_encoder.embeddings.*``,
        every ``bert.`` stripped); ``kind``: ``'pretrain'`` (a prompter, ``mpm_head`` or prompt features) or
        ``'retrieval'``.

    Raises:
        KeyError: If no key is a text-encoder key of either layout.
        ValueError: If the keys mix the two layouts.
    """
    state = official_state_dict(checkpoint, ('model', 'state_dict'), 'ALPRO')
    layouts = {_text_key(k[len('prompter.'):] if k.startswith('prompter.') else k)[0] for k in state} - {None}
    if not layouts:
        raise KeyError(f'no ALPRO text-encoder key ({OFFICIAL_BERT}* or {LAVIS_BERT[0]}*) in the state dict; first '
                       f'keys: {", ".join(list(state)[:5])}')
    if len(layouts) > 1:
        raise ValueError(f'the state dict mixes the official ({OFFICIAL_BERT}*) and the LAVIS '
                         f'({LAVIS_BERT[0]}*) text-encoder layouts')
    pretrain = any(k.startswith(('prompter.', 'mpm_head.')) or k in PROMPT_FEATS for k in state)
    return dict(layout=layouts.pop(), kind='pretrain' if pretrain else 'retrieval')


def _convert_model(state: Mapping[str, torch.Tensor], prefix: str) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map the keys of one ALPRO model under ``prefix``.

    Args:
        state (Mapping): The official state dict (the whole file's).
        prefix (str): ``''`` (the student: ``prompter.*`` are left out) or ``'prompter.'``.

    Returns:
        tuple: The converted keys (under ``prefix``) and the keys under ``prefix`` that are no key of the model.
    """
    own = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if prefix == '':
        own = OrderedDict((k, v) for k, v in own.items() if not k.startswith('prompter.'))
    converted = OrderedDict((f'{prefix}visual_encoder.{k}', v)
                            for k, v in convert_alpro_visual(state, prefix + ALPRO_VISUAL_PREFIX).items())
    unmapped = []
    for name, value in own.items():
        bert = _text_key(name)[1]
        if name.startswith(ALPRO_VISUAL_PREFIX) or bert == POSITION_IDS:
            continue
        if bert is not None:
            converted[f'{prefix}text_encoder.bert.{bert}'] = value
        elif name == 'temp' or name.startswith(HEAD_PREFIXES) or (prefix == 'prompter.' and name in PROMPT_FEATS):
            converted[prefix + name] = value
        elif not (prefix == '' and (name.startswith('mpm_head.') or name in PROMPT_FEATS)):
            unmapped.append(prefix + name)
    missing = [prefix + k for k in REQUIRED_KEYS if k not in own]
    if not any(_text_key(k)[0] for k in own):
        missing.append(f'{prefix}{OFFICIAL_BERT}*')
    if missing:
        raise KeyError(f'missing ALPRO keys: {", ".join(missing)}')
    return converted, unmapped


def convert_alpro(checkpoint: Mapping, task: str = 'retrieval') -> Dict[str, torch.Tensor]:
    """Convert an official ALPRO (or LAVIS ALPRO) checkpoint to videoalign's ALPRO models (see the module).

    Both layouts (official, LAVIS) and both kinds (pretraining with a prompter, fine-tuned retrieval) are detected
    from the keys (:func:`detect_alpro_checkpoint`). ``pos_embed`` / ``time_embed`` keep their length: the model
    resizes them on load (nearest, as the official loader).

    Args:
        checkpoint (Mapping): The loaded file: a state dict, or ``{'model': state_dict}`` (LAVIS); a DDP ``module.``
            prefix is removed.
        task (str): The model the keys are for: ``'retrieval'`` (``AlproRetrieval``; ``prompter.*``, ``mpm_head.*``,
            the prompt features and the MLM head are dropped, so that a pretraining file loads strictly for zero-shot
            retrieval) or
            ``'pretrain'`` (they are kept: the prompter mapped as the student, under ``prompter.``).
            Defaults to ``'retrieval'``.

    Returns:
        dict: The converted state dict (the official tensors, not copied).

    Raises:
        ValueError: If ``task`` is unknown, or the layouts are mixed.
        KeyError: Naming the keys with no mapping (a QA checkpoint's ``classifier.*`` is named as such), or the
            missing ones (no video or text encoder, projections, ``itm_head`` or ``temp``).
    """
    if task not in ALPRO_TASKS:
        raise ValueError(f'task must be one of {", ".join(ALPRO_TASKS)}, got {task!r}')
    state = official_state_dict(checkpoint, ('model', 'state_dict'), 'ALPRO')
    classifier = [k for k in state if k.startswith('classifier.')]
    if classifier:
        raise KeyError(f'an ALPRO QA checkpoint ({", ".join(classifier[:2])}, ...): the alpro converter maps '
                       'retrieval and pretraining checkpoints; convert QA checkpoints with alpro_qa')
    detect_alpro_checkpoint(state)  # one layout, with a text encoder
    converted, unmapped = _convert_model(state, '')
    if any(k.startswith('prompter.') for k in state):
        prompter, unmapped_prompter = _convert_model(state, 'prompter.')
        unmapped += unmapped_prompter
        if task == 'pretrain':  # the prompter is trained with VTC only: no MLM head
            converted.update((k, v) for k, v in prompter.items() if not k.startswith('prompter.' + MLM_HEAD))
    check_unmapped(unmapped, 'ALPRO')
    if task == 'pretrain':
        converted.update((k, v) for k, v in state.items() if k.startswith('mpm_head.') or k in PROMPT_FEATS)
        return converted
    return OrderedDict((k, v) for k, v in converted.items() if not k.startswith(MLM_HEAD))


def _describe(checkpoint: Mapping) -> Dict[str, str]:
    """The converted file's ``meta`` entries: ``alpro_layout`` and ``alpro_kind`` of the official file."""
    return {f'alpro_{key}': value for key, value in detect_alpro_checkpoint(checkpoint).items()}


register_converter('alpro', describe=_describe)(convert_alpro)
