"""Classification by video-text similarity: each class is the text embedding of its name (CLIP zero-shot style)."""
import math
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures
from .class_text_head import ClassTextHead


@MODELS.register_module()
class TextPromptHead(ClassTextHead):
    """Logits ``logit_scale.exp() * cos(video embedding, class text embedding)`` over a list of class names.

    The class names, written into prompt templates, go through a text encoder (CLIP's); the class embeddings are
    cached while the encoder is frozen and recomputed when the class list, the templates or the encoder weights
    change (see :class:`~videoalign.models.text.ClassTextBank`). ``set_class_names`` switches to another class list
    and ``set_templates`` to other templates at run time (open-vocabulary inference).

    The head reads ``video_embeds`` ``(B, D)`` of the :class:`~videoalign.structures.VideoFeatures` (or a bare
    ``(B, D)`` tensor). With a ``text_prompt`` module (X-CLIP's video-specific prompt) it also reads
    ``patch_tokens``, and each video gets its own class embeddings ``t + text_prompt(t, patch_tokens)``, where ``t``
    are the class embeddings expanded to ``(B, K, D)``. As in X-CLIP, ``t`` are then the encoder's unnormalised
    outputs (for several templates: the normalised ensemble direction with the mean norm of the templates); both
    sides are normalised after the prompt.

    Loss and prediction are mmaction2's ``BaseHead`` (see :class:`ClassTextHead`).

    Args:
        in_channels (int): Width ``D`` of the video embedding; must equal the text encoder's ``embed_dim``.
        text_encoder (dict | nn.Module): The text encoder or its config, e.g.
            ``dict(type='CLIPTextEncoder', arch='ViT-B/16', init_cfg=dict(type='CLIPPretrained', checkpoint=...))``.
            It maps token ids ``(N, L)`` to ``(N, D)``.
        logit_scale_init (float): Initial value of ``logit_scale`` (the log of the inverse temperature). Defaults to
            ``log(1 / 0.07)``, CLIP's value before training; a trained CLIP has ``log(100)``, which X-CLIP keeps
            frozen: set it, or load CLIP's ``logit_scale`` into this head.
        freeze_logit_scale (bool): Whether ``logit_scale`` is a parameter with ``requires_grad=False``.
            Defaults to True.
        text_prompt (dict | nn.Module, optional): A module (or config) called as
            ``text_prompt(text_embeds (B, K, D), patch_tokens) -> (B, K, D)`` whose output is added to the class
            embeddings. Defaults to None.
        **kwargs: The arguments of :class:`ClassTextHead` (``class_names``, ``num_classes``, ``tokenizer``,
            ``templates``, ``replace_underscores``, ``freeze_text``, ``text_batch_size``) and of ``BaseHead``
            (``loss_cls``, ``label_smooth_eps``, ``average_clips``, ``topk``, ``multi_class``, ``init_cfg``).
            ``templates`` defaults to ``'bare'`` (X-CLIP); several templates are ensembled.
    """

    def __init__(self,
                 in_channels: int,
                 text_encoder: Union[dict, nn.Module],
                 logit_scale_init: float = math.log(1 / 0.07),
                 freeze_logit_scale: bool = True,
                 text_prompt: Optional[Union[dict, nn.Module]] = None,
                 **kwargs) -> None:
        if 'normalize_text' in kwargs:
            raise TypeError('TextPromptHead sets normalize_text itself: the class embeddings are normalised '
                            'unless a text_prompt is added to them (X-CLIP)')
        # X-CLIP's prompt is added to the unnormalised embeddings
        super().__init__(in_channels, text_encoder, normalize_text=text_prompt is None, **kwargs)
        self.text_prompt = MODELS.build(text_prompt) if isinstance(text_prompt, dict) else text_prompt
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale_init)), requires_grad=not freeze_logit_scale)

    @property
    def templates(self) -> List[str]:
        """The current prompt templates (a copy)."""
        return self.text_bank.templates

    def set_templates(self, templates: Union[str, Sequence[str]]) -> None:
        """Switch to other prompt templates (a named set or a list)."""
        self.text_bank.set_templates(templates)

    def class_embeddings(self) -> torch.Tensor:
        """The class text embeddings ``(K, D)`` (normalised unless a ``text_prompt`` is used)."""
        return self.text_bank(self.text_encoder)

    def text_embeddings(self, features: VideoFeatures, video: torch.Tensor) -> torch.Tensor:
        """The class embeddings ``(K, D)``, or with a ``text_prompt`` one prompted set per video ``(B, K, D)``.

        Args:
            features (VideoFeatures): The features of the videos; ``patch_tokens`` is read by ``text_prompt``.
            video (torch.Tensor): Their video embeddings ``(B, D)``.

        Returns:
            torch.Tensor: The class embeddings, in the dtype of ``video``.
        """
        text = super().text_embeddings(features, video)
        if self.text_prompt is None:
            return text
        patch_tokens = features.require('patch_tokens', f'{type(self).__name__} with a text_prompt')
        text = text.unsqueeze(0).expand(video.shape[0], -1, -1)
        return text + self.text_prompt(text, patch_tokens)
