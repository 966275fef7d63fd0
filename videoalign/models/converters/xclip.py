"""Official X-CLIP checkpoints (microsoft/VideoX, X-CLIP/) to videoalign's layout.

The official file is ``{'model': state_dict, 'optimizer', 'lr_scheduler', 'max_accuracy', 'epoch', 'config'}``
with the keys of ``XCLIP`` (xclip.md §3.1) and no ``module.`` prefix. videoalign's X-CLIP is mmaction2's
``Recognizer3D`` with a ``CLIPViT`` backbone (``XCLIPBlock``), an MIT neck and a ``TextPromptHead`` holding the CLIP
text encoder and the ``VideoSpecificPrompt``; the mapping is by prefix only:

==============================  =====================================
official                        videoalign
==============================  =====================================
``visual.*``                    ``backbone.*``
``mit.*``                       ``neck.*``
``prompts_visual_ln.*``         ``cls_head.text_prompt.visual_ln.*``
``prompts_visual_proj``         ``cls_head.text_prompt.visual_proj``
``prompts_generator.*``         ``cls_head.text_prompt.*``
``logit_scale``                 ``cls_head.logit_scale``
text tower (``token_embedding``, ``positional_embedding``, ``transformer.*``, ``ln_final``, ``text_projection``)
                                ``cls_head.text_encoder.*``
==============================  =====================================
"""
from typing import Dict, Mapping

import torch

from .io import official_state_dict, rename_prefixes
from .registry import register_converter

PREFIXES = (  # most specific first
    ('prompts_visual_proj', 'cls_head.text_prompt.visual_proj'),
    ('prompts_visual_ln.', 'cls_head.text_prompt.visual_ln.'),
    ('prompts_generator.', 'cls_head.text_prompt.'),
    ('visual.', 'backbone.'),
    ('mit.', 'neck.'),
    ('logit_scale', 'cls_head.logit_scale'),
    ('token_embedding.', 'cls_head.text_encoder.token_embedding.'),
    ('positional_embedding', 'cls_head.text_encoder.positional_embedding'),
    ('transformer.', 'cls_head.text_encoder.transformer.'),
    ('ln_final.', 'cls_head.text_encoder.ln_final.'),
    ('text_projection', 'cls_head.text_encoder.text_projection'),
)


@register_converter('xclip')
def convert_xclip(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Map an official X-CLIP checkpoint (or its ``'model'`` state dict) to videoalign's keys.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.

    Returns:
        dict: The state dict of videoalign's X-CLIP model.

    Raises:
        KeyError: Naming the official keys that have no counterpart.
    """
    return rename_prefixes(official_state_dict(checkpoint, ('model', ), 'X-CLIP'), PREFIXES, 'X-CLIP')
