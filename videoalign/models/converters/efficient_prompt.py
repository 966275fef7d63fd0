"""Official Efficient-Prompt checkpoints (ju-chen/Efficient-Prompt) to videoalign's layout.

The official file is ``{'state_dict': CLIPrompt.state_dict(), 'optimizer', 'iteration'}`` (``src/train.py``), trained
on one GPU (no ``module.`` prefix). It holds the whole frozen CLIP under ``clipmodel.*`` next to the trained
``embedding``, ``temporalEmbedding`` and ``temporalModelling``. videoalign's Efficient-Prompt is a
``VideoRecognizer`` with a ``CLIPViT`` backbone, a ``TemporalTransformer`` neck and a ``LearnablePromptHead``:

===================================================  =============================================
official                                             videoalign
===================================================  =============================================
``clipmodel.visual.*``                               ``backbone.*`` (dropped with ``drop_visual``)
``clipmodel.token_embedding.*``                      ``cls_head.text_encoder.token_embedding.*``
``clipmodel.positional_embedding``                   ``cls_head.text_encoder.positional_embedding``
``clipmodel.transformer.*``                          ``cls_head.text_encoder.transformer.*``
``clipmodel.ln_final.*``                             ``cls_head.text_encoder.ln_final.*``
``clipmodel.text_projection``                        ``cls_head.text_encoder.text_projection``
``clipmodel.logit_scale``                            dropped (the temperature is a fixed 0.07)
``embedding.weight``                                 ``cls_head.prompt.embedding.weight``
``temporalEmbedding.weight``                         ``neck.temporal_embedding.weight``
``temporalModelling.*``                              ``neck.transformer.*``
===================================================  =============================================

CLIP's ``logit_scale`` is in the official state dict only because ``clipmodel`` is a sub-module; the official code
never reads it (logits are ``cos / 0.07``), and videoalign's head holds the fixed temperature as a constant.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch

VISUAL = 'clipmodel.visual.'
PREFIXES = (  # (official, videoalign or None to drop)
    (VISUAL, 'backbone.'),
    ('clipmodel.token_embedding.', 'cls_head.text_encoder.token_embedding.'),
    ('clipmodel.positional_embedding', 'cls_head.text_encoder.positional_embedding'),
    ('clipmodel.transformer.', 'cls_head.text_encoder.transformer.'),
    ('clipmodel.ln_final.', 'cls_head.text_encoder.ln_final.'),
    ('clipmodel.text_projection', 'cls_head.text_encoder.text_projection'),
    ('clipmodel.logit_scale', None),
    ('embedding.weight', 'cls_head.prompt.embedding.weight'),
    ('temporalEmbedding.weight', 'neck.temporal_embedding.weight'),
    ('temporalModelling.', 'neck.transformer.'),
)


def _target(key: str) -> Optional[tuple]:
    """``(new_prefix, old_prefix)`` of ``key``, or None if no entry of :data:`PREFIXES` covers it."""
    for old, new in PREFIXES:
        if key == old or (old.endswith('.') and key.startswith(old)):
            return new, old
    return None


def convert_efficient_prompt(checkpoint: Mapping, drop_visual: bool = False) -> Dict[str, torch.Tensor]:
    """Map an official Efficient-Prompt checkpoint (or its ``'state_dict'``) to videoalign's keys.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.
        drop_visual (bool): Leave out the CLIP image encoder (``clipmodel.visual.*``), for a model that reads
            cached frame features and has no backbone weights. Defaults to False.

    Returns:
        dict: The state dict of videoalign's Efficient-Prompt model.

    Raises:
        KeyError: Naming the official keys that have no counterpart.
    """
    state = checkpoint.get('state_dict', checkpoint)
    converted, unknown = OrderedDict(), []
    for key, value in state.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        target = _target(key)
        if target is None:
            unknown.append(key)
            continue
        new, old = target
        if new is None or (drop_visual and old == VISUAL):
            continue
        converted[new + key[len(old):]] = value
    if unknown:
        raise KeyError(f'not Efficient-Prompt keys (no mapping): {", ".join(unknown[:10])}'
                       f'{" ..." if len(unknown) > 10 else ""}')
    return converted
