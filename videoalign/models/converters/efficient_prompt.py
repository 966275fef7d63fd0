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
from typing import Dict, Mapping

import torch

from .io import official_state_dict, rename_prefixes
from .registry import register_converter

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


@register_converter('efficient_prompt')
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
    prefixes = [(old, None if drop_visual and old == VISUAL else new) for old, new in PREFIXES]
    return rename_prefixes(
        official_state_dict(checkpoint, ('state_dict', ), 'Efficient-Prompt'), prefixes, 'Efficient-Prompt')
