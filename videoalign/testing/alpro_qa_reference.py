"""Transcription of ALPRO's official video QA forward (salesforce/ALPRO) and random QA state dicts, for tests.

:func:`official_qa_logits` computes ``AlproForSequenceClassification.forward`` (``src/modeling/alpro_models.py``)
with plain tensors from a state dict with the **official QA key names**, reusing the video and xbert transcriptions
of :mod:`videoalign.testing.alpro_reference`; comparing a converted videoalign model with it checks the key mapping
and the computation at once. :func:`random_official_qa_state` writes a tiny official QA state dict (a ``BertModel``
text encoder: ``text_encoder.*``, the unused ``temp`` / projections / ``itm_head``, ``classifier.{0,2}``) and
:func:`lavis_qa_file` the file LAVIS's ``AlproQA`` would hold for it.
"""
from collections import OrderedDict
from typing import Dict

import torch
import torch.nn.functional as F

from .alpro_reference import (StateDict, official_video_tokens, random_official_alpro_state, strip_prefix, xbert_fusion,
                              xbert_text)

__all__ = ['official_qa_logits', 'random_official_qa_state', 'lavis_qa_file']


def official_qa_logits(sd: StateDict, visual_inputs: torch.Tensor, text_input_ids: torch.Tensor,
                       text_input_mask: torch.Tensor, video_heads: int, patch_size: int, text_heads: int,
                       fusion_layer: int) -> torch.Tensor:
    """``AlproForSequenceClassification.forward``: the answer logits (its ``prediction``).

    The questions go through ``text_encoder(..., mode='text')``, the clips through
    ``visual_encoder.forward_features(visual_inputs.transpose(1, 2), return_all_tokens=True)`` (the temporally
    pooled tokens), ``text_encoder(encoder_embeds=cat([text, video]), mode='fusion')`` fuses them with the mask
    ``cat([text_input_mask, ones])``, and ``classifier`` (Linear, ReLU, Linear) scores the fusion CLS.

    Args:
        sd (Mapping): An official QA state dict: ``visual_encoder.model.*``, ``text_encoder.{embeddings,encoder}.*``
            (a ``BertModel``) and ``classifier.{0,2}.*``.
        visual_inputs (torch.Tensor): ``(B, T, C, H, W)``, normalised.
        text_input_ids (torch.Tensor): ``(B, L)``.
        text_input_mask (torch.Tensor): ``(B, L)``.
        video_heads (int): Attention heads of the video encoder.
        patch_size (int): Its patch side.
        text_heads (int): Attention heads of BERT.
        fusion_layer (int): BERT's first fusion layer.

    Returns:
        torch.Tensor: ``(B, num_answers)``.
    """
    video_embeds = official_video_tokens(
        strip_prefix(sd, 'visual_encoder.model.'), visual_inputs.transpose(1, 2), video_heads, patch_size)
    video_atts = torch.ones(video_embeds.size()[:-1], dtype=torch.long)
    # the transcriptions read BertForMaskedLM's keys (bert.*): a BertModel's are the same without the prefix
    bert = {f'bert.{k}': v for k, v in strip_prefix(sd, 'text_encoder.').items()}
    text_embeds = xbert_text(bert, text_input_ids, text_input_mask, text_heads, fusion_layer)
    fused = xbert_fusion(bert, text_embeds, text_input_mask, video_embeds, video_atts, text_heads, fusion_layer)
    hidden = F.relu(F.linear(fused[:, 0, :], sd['classifier.0.weight'], sd['classifier.0.bias']))
    return F.linear(hidden, sd['classifier.2.weight'], sd['classifier.2.bias'])


def random_official_qa_state(num_answers: int = 7,
                             num_frames: int = 4,
                             vocab_size: int = 138,
                             width: int = 32,
                             seed: int = 0,
                             **kwargs) -> Dict[str, torch.Tensor]:
    """A tiny official ``AlproForSequenceClassification`` state dict with random values and the official key names.

    It is :func:`~videoalign.testing.alpro_reference.random_official_alpro_state`'s retrieval model with the text
    encoder a ``BertModel`` (``text_encoder.*``, with xbert's ``embeddings.position_ids``; no MLM head) and the
    classifier added; ``temp``, ``vision_proj``, ``text_proj`` and ``itm_head`` stay, as in the official model.

    Args:
        num_answers (int): Outputs of the classifier. Defaults to 7.
        num_frames (int): ``time_embed``'s length. Defaults to 4.
        vocab_size (int): BERT vocabulary. Defaults to 138.
        width (int): Hidden width of both encoders. Defaults to 32.
        seed (int): Random seed. Defaults to 0.
        **kwargs: Other arguments of ``random_official_alpro_state`` (``video_depth``, ``grid``, ``patch_size``,
            ``text_layers``, ``intermediate``, ``max_positions``, ``embed_dim``).

    Returns:
        dict: The official QA state dict.
    """
    base = random_official_alpro_state(
        'retrieval', num_frames=num_frames, vocab_size=vocab_size, width=width, seed=seed, **kwargs)
    state = OrderedDict()
    for key, value in base.items():
        if key.startswith('text_encoder.cls.'):
            continue  # BertModel: no MLM head
        state[key.replace('text_encoder.bert.', 'text_encoder.', 1)] = value
    generator = torch.Generator().manual_seed(seed + 7)
    state.update({
        'classifier.0.weight': torch.randn(2 * width, width, generator=generator) * 0.2,
        'classifier.0.bias': torch.randn(2 * width, generator=generator) * 0.2,
        'classifier.2.weight': torch.randn(num_answers, 2 * width, generator=generator) * 0.2,
        'classifier.2.bias': torch.randn(num_answers, generator=generator) * 0.2
    })
    return state


def lavis_qa_file(official: StateDict) -> dict:
    """LAVIS's file of an official QA state dict: ``{'model': state_dict}`` with ``'bert.'`` removed from every key
    that contains ``bert`` (``AlproBase.load_from_pretrained``) and only the keys of LAVIS's ``AlproQA``
    (``visual_encoder``, ``text_encoder``, ``classifier``: no ``temp``, projections or ``itm_head``)."""
    state = OrderedDict()
    for key, value in official.items():
        if key.startswith(('visual_encoder.', 'text_encoder.', 'classifier.')):
            state[key.replace('bert.', '') if 'bert' in key else key] = value
    return {'model': state}
