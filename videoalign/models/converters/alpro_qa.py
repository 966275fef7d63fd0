"""Official ALPRO video QA checkpoints (salesforce/ALPRO) and LAVIS's copies to :class:`AlproQA`'s layout.

The official QA model (``AlproForSequenceClassification``, ``src/modeling/alpro_models.py``) replaces the pretraining
model's ``BertForMaskedLM`` with a ``BertModel`` without pooler, so its text keys are ``text_encoder.*`` (the
official ``load_state_dict_with_pos_embed_resizing(..., remove_text_encoder_prefix=True)`` renames the pretraining
file's ``text_encoder.bert.`` to ``text_encoder.``). It inherits ``temp``, ``vision_proj``, ``text_proj`` and
``itm_head`` from ``AlproBaseModel``: its forward never uses them, so fine-tuning leaves them as loaded (no
gradient). LAVIS's ``AlproQA`` (``lavis/models/alpro_models/alpro_qa.py``) has only ``visual_encoder``,
``text_encoder`` (``XBertEncoder``, a ``BertModel`` without pooler) and ``classifier``, and its loader strips every
``bert.``. The registered converter ``alpro_qa`` (:func:`convert_alpro_qa`) reads both:

=============================================  ==============================================================
official / LAVIS key                           videoalign key (``AlproQA``)
=============================================  ==============================================================
``visual_encoder.model.*``                     ``visual_encoder.*``: :func:`~.alpro.convert_alpro_visual`
                                               (``head.*``, an unused 400-class layer, dropped)
``text_encoder.{embeddings,encoder}.*``        ``text_encoder.bert.*`` (``embeddings.position_ids``, a buffer,
(or ``text_encoder.bert.*``)                   dropped)
``classifier.{0,2}.{weight,bias}``             unchanged (Linear ``D -> 2D``, ReLU, Linear ``2D -> answers``)
``temp``, ``vision_proj.*``, ``text_proj.*``,  dropped: unused by QA (official file only)
``itm_head.*``
=============================================  ==============================================================

Any other key is an error that names it, and so is a file without ``classifier.*`` (a pretraining or retrieval
checkpoint: the ``alpro`` converter maps those, and a QA fine-tune starts from them with ``load_from``, the
classifier initialised at random). ``pos_embed`` / ``time_embed`` keep their length; the model resizes them on load.
"""
from collections import OrderedDict
from typing import Any, Dict, Mapping

import torch

from .alpro import ALPRO_VISUAL_PREFIX, POSITION_IDS, _text_key, convert_alpro_visual
from .io import check_unmapped, official_state_dict
from .registry import register_converter

__all__ = ['convert_alpro_qa', 'CLASSIFIER_KEYS', 'UNUSED_QA_KEYS']

#: The answer classifier (``nn.Sequential(Linear, ReLU, Linear)``), the same names in both code bases.
CLASSIFIER_KEYS = ('classifier.0.weight', 'classifier.0.bias', 'classifier.2.weight', 'classifier.2.bias')
#: ``AlproBaseModel``'s heads that the official QA model holds but never uses.
UNUSED_QA_KEYS = ('temp', 'vision_proj.weight', 'vision_proj.bias', 'text_proj.weight', 'text_proj.bias',
                  'itm_head.weight', 'itm_head.bias')


def convert_alpro_qa(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Convert an official ALPRO (or LAVIS ALPRO) video QA checkpoint to :class:`AlproQA`'s keys (see the module).

    Args:
        checkpoint (Mapping): The loaded file: a state dict, or ``{'model': state_dict}`` (LAVIS); a DDP ``module.``
            prefix is removed.

    Returns:
        dict: The converted state dict (the official tensors, not copied).

    Raises:
        KeyError: If the file has no classifier (not a QA checkpoint), no video or text encoder, or keys that are
            no key of the QA model (named).
        ValueError: If the text-encoder keys mix the layouts with and without ``bert.``.
    """
    state = official_state_dict(checkpoint, ('model', 'state_dict'), 'ALPRO QA')
    missing = [k for k in CLASSIFIER_KEYS if k not in state]
    if len(missing) == len(CLASSIFIER_KEYS):
        raise KeyError('not an ALPRO QA checkpoint (no classifier.*): pretraining and retrieval checkpoints go through '
                       'the alpro converter, and a QA fine-tune starts from them with load_from')
    converted = OrderedDict(
        (f'visual_encoder.{k}', v) for k, v in convert_alpro_visual(state, ALPRO_VISUAL_PREFIX).items())
    unmapped, layouts = [], set()
    for name, value in state.items():
        if name.startswith(ALPRO_VISUAL_PREFIX) or name in UNUSED_QA_KEYS:
            continue
        layout, bert = _text_key(name)
        if bert is not None:
            layouts.add(layout)
            if bert != POSITION_IDS:
                converted[f'text_encoder.bert.{bert}'] = value
        elif name in CLASSIFIER_KEYS:
            converted[name] = value
        else:
            unmapped.append(name)
    check_unmapped(unmapped, 'ALPRO QA')
    if not layouts:
        missing.append('text_encoder.{embeddings,encoder}.*')
    if missing:
        raise KeyError(f'missing ALPRO QA keys: {", ".join(missing)}')
    if len(layouts) > 1:
        raise ValueError('the state dict mixes text-encoder keys with and without bert. (text_encoder.bert.* and '
                         'text_encoder.embeddings.*)')
    return converted


def _describe(checkpoint: Mapping) -> Dict[str, Any]:
    """The converted file's ``meta``: ``alpro_kind`` (``'qa'``), ``alpro_num_answers`` (the classifier's outputs)
    and ``alpro_unused_heads`` (whether the file holds the official model's unused ``temp`` / projections /
    ``itm_head``, as the official QA model does and LAVIS's does not)."""
    state = official_state_dict(checkpoint, ('model', 'state_dict'), 'ALPRO QA')
    weight = state.get('classifier.2.weight')
    return dict(
        alpro_kind='qa',
        alpro_num_answers=int(weight.shape[0]) if isinstance(weight, torch.Tensor) else None,
        alpro_unused_heads=any(k in state for k in UNUSED_QA_KEYS))


register_converter('alpro_qa', describe=_describe)(convert_alpro_qa)
