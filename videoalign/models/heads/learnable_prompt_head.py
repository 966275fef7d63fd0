"""Efficient-Prompt's head: cosine similarity to class embeddings made from learnable prompts, at a fixed temperature.

Official code: ``ju-chen/Efficient-Prompt`` ``src/model.py`` (``CLIPrompt``), ``src/train.py`` and ``src/val.py``
(commit ``1f69a18``).
"""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from videoalign.models.text import LearnablePrompt
from videoalign.registry import MODELS
from .class_text_head import ClassTextHead


class _PromptedTextEncoder(nn.Module):
    """Token ids -> class embeddings through a learnable prompt and a text encoder.

    What :class:`~videoalign.models.text.ClassTextBank` runs and keys its cache on (the weights of both modules).
    Made on each call from the head's own modules, so it is never part of the head's module tree or state dict.
    """

    def __init__(self, prompt: LearnablePrompt, text_encoder: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.prompt = prompt
        self.text_encoder = text_encoder
        self.names = names

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Encode the class-name tokens ``(K, L)`` with the prompt: ``(K, D)``."""
        names = self.names if len(self.names) == tokens.shape[0] else None  # the bank may encode in chunks
        embeds, eot = self.prompt(tokens, self.text_encoder.token_embedding, names)
        return self.text_encoder.forward_embeddings(embeds, eot)


@MODELS.register_module()
class LearnablePromptHead(ClassTextHead):
    """Logits ``cos(video, class) / 0.07``, each class embedded by the frozen text encoder from learnable prompts.

    A class is its name's tokens between the learned prefix and postfix vectors of a
    :class:`~videoalign.models.text.LearnablePrompt` (no hand-written template), encoded by the frozen CLIP text
    encoder and L2-normalised; the video embedding is L2-normalised too (``--featnorm 1``). The temperature is
    Efficient-Prompt's **fixed** 0.07: ``logit_scale`` is a non-persistent buffer ``log(1 / 0.07)``, not a parameter,
    and CLIP's own ``logit_scale`` (100) is not used.

    The head reads ``video_embeds`` ``(B, D)`` of the :class:`~videoalign.structures.VideoFeatures` (or a bare
    ``(B, D)`` tensor); the score is :class:`ClassTextHead`'s. There are no templates: the learned vectors take their
    place.

    The class embeddings are recomputed with autograd on every training forward (the prompt trains). In eval mode
    they are cached by the head's :class:`~videoalign.models.text.ClassTextBank`, which recomputes them when the
    class list changes (``set_class_names``, e.g. the held-out classes of a zero-shot test) or when the prompt or
    text-encoder weights change (an optimizer step or a checkpoint writes them in place).

    Every class of the list is scored in every batch. The official code contrasts each batch against its classes
    plus random negatives, up to ``--numContrast 400`` classes, i.e. all classes of HMDB51, UCF101 and Kinetics-400;
    that subset is not implemented, so a list of more than 400 classes is scored in full.

    Args:
        in_channels (int): Width ``D`` of the video embedding; must equal the text encoder's ``embed_dim``.
        text_encoder (dict | nn.Module): The CLIP text encoder or its config (``CLIPTextEncoder``); it is frozen.
        prompt (dict | LearnablePrompt): The learnable prompt or its config; ``context_length`` and ``width`` are
            filled in from the text encoder when missing from the config. Defaults to
            ``dict(type='LearnablePrompt', prefix=16, postfix=16)``.
        temperature (float): The fixed softmax temperature. Defaults to 0.07.
        **kwargs: The arguments of :class:`ClassTextHead` (``class_names``, ``num_classes``, ``tokenizer``,
            ``replace_underscores``, ``text_batch_size``) and of ``BaseHead`` (``loss_cls``, ``label_smooth_eps``,
            ``average_clips``, ``topk``, ``multi_class``, ``init_cfg``). ``average_clips`` defaults to ``'prob'``
            (the official test averages the softmax of 5 random samplings).
    """

    def __init__(self,
                 in_channels: int,
                 text_encoder: Union[dict, nn.Module],
                 prompt: Union[dict, LearnablePrompt] = dict(type='LearnablePrompt', prefix=16, postfix=16),
                 temperature: float = 0.07,
                 **kwargs) -> None:
        if temperature <= 0:
            raise ValueError(f'temperature must be positive, got {temperature}')
        fixed = sorted({'templates', 'normalize_text', 'freeze_text'} & kwargs.keys())
        if fixed:
            raise TypeError(f'LearnablePromptHead does not take {fixed}: the learned vectors replace the templates, '
                            f'and the text encoder is frozen with normalised outputs as in Efficient-Prompt')
        # the bank tokenizes the bare class names; the learned vectors surround them
        super().__init__(in_channels, text_encoder, templates='bare', normalize_text=True, freeze_text=True, **kwargs)
        # a constant, not state: not in the state dict
        self.register_buffer('logit_scale', torch.tensor(math.log(1 / temperature)), persistent=False)
        if isinstance(prompt, dict):
            prompt = dict(prompt)
            prompt.setdefault('context_length', self.text_encoder.context_length)
            prompt.setdefault('width', self.text_encoder.width)
            prompt = MODELS.build(prompt)
        if (prompt.context_length, prompt.width) != (self.text_encoder.context_length, self.text_encoder.width):
            raise ValueError(f'the prompt (context_length {prompt.context_length}, width {prompt.width}) does not '
                             f'match the text encoder (context_length {self.text_encoder.context_length}, width '
                             f'{self.text_encoder.width})')
        self.prompt = prompt
        if self.class_names:
            self.prompt.eot_indices(self.text_bank.tokens(), self.class_names)  # every class fits the prompt

    def set_class_names(self, class_names: Optional[Sequence[str]]) -> None:
        """Switch to another class list; every class must fit the prompt.

        Args:
            class_names (Sequence[str], optional): The class names; None removes them.

        Raises:
            ValueError: Naming a class too long for the prompt (the class list is then left unchanged).
        """
        previous = self.class_names
        super().set_class_names(class_names)
        try:
            if self.class_names:
                self.prompt.eot_indices(self.text_bank.tokens(), self.class_names)
        except ValueError:
            super().set_class_names(previous or None)
            raise

    def class_embeddings(self) -> torch.Tensor:
        """The L2-normalised class embeddings ``(K, D)``: with autograd in training, cached in eval mode."""
        encoder = _PromptedTextEncoder(self.prompt, self.text_encoder, self.class_names)
        return self.text_bank(encoder, cache=not self.training)
