"""Classification by video-text similarity: each class is the text embedding of its name (CLIP zero-shot style)."""
import math
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads import BaseHead

from videoalign.models.text import ClassTextBank, resolve_class_names
from videoalign.registry import MODELS, TOKENIZERS

FeatsType = Union[torch.Tensor, Tuple[torch.Tensor, ...], List[torch.Tensor]]


@MODELS.register_module()
class TextPromptHead(BaseHead):
    """Logits ``logit_scale.exp() * cos(video embedding, class text embedding)`` over a list of class names.

    The class names, written into prompt templates, go through a text encoder (CLIP's); the class embeddings are
    cached while the encoder is frozen and recomputed when the class list, the templates or the encoder weights
    change (see :class:`~videoalign.models.text.ClassTextBank`). ``set_class_names`` switches to another class list
    at run time (open-vocabulary inference).

    With a ``text_prompt`` module (X-CLIP's video-specific prompt), ``feats`` is ``(video_embeds, visual_tokens)``
    and each video gets its own class embeddings ``t + text_prompt(t, visual_tokens)``, where ``t`` are the class
    embeddings expanded to ``(B, K, D)``. As in X-CLIP, ``t`` are then the encoder's unnormalised outputs (for several
    templates: the normalised ensemble direction with the mean norm of the templates); both sides are normalised
    after the prompt. Without ``text_prompt``, ``feats`` is the video embedding tensor ``(B, D)`` or a tuple whose
    first element it is.

    Loss and prediction are mmaction2's ``BaseHead``: hard or blended (mixup/cutmix) soft labels, label smoothing
    over ``num_classes`` (kept equal to the number of class names), and ``average_clips`` over the views of a video.

    Args:
        num_classes (int, optional): Number of classes; must equal the number of class names. None means the number
            of class names.
        in_channels (int): Width ``D`` of the video embedding; must equal the text encoder's ``embed_dim``.
        class_names (Sequence[str] | str): The class names, or a label map / ``id,name`` CSV file to read them from.
        text_encoder (dict | nn.Module): The text encoder or its config, e.g.
            ``dict(type='CLIPTextEncoder', arch='ViT-B/16', init_cfg=dict(type='CLIPPretrained', checkpoint=...))``.
            It maps token ids ``(N, L)`` to ``(N, D)``.
        tokenizer (dict | Callable): The tokenizer or its config (in ``TOKENIZERS``). Defaults to
            ``dict(type='CLIPTokenizer')``.
        templates (str | Sequence[str]): A named template set (``'bare'``, ``'video'``, ``'ensemble'``, ...) or
            templates with one ``{}`` each; several templates are ensembled. Defaults to ``'bare'`` (X-CLIP).
        replace_underscores (bool): Whether underscores in class names are written as spaces. Defaults to True.
        freeze_text (bool): Whether the text encoder is frozen: no gradient, and kept in eval mode when the head is
            put in train mode. Defaults to True.
        logit_scale_init (float): Initial value of ``logit_scale`` (the log of the inverse temperature). Defaults to
            ``log(1 / 0.07)``, CLIP's value before training; a trained CLIP has ``log(100)``, which X-CLIP keeps
            frozen: set it, or load CLIP's ``logit_scale`` into this head.
        freeze_logit_scale (bool): Whether ``logit_scale`` is a parameter with ``requires_grad=False``.
            Defaults to True.
        text_prompt (dict | nn.Module, optional): A module (or config) called as
            ``text_prompt(text_embeds (B, K, D), visual_tokens) -> (B, K, D)`` whose output is added to the class
            embeddings. Defaults to None.
        text_batch_size (int): Prompts per text-encoder call. Defaults to 512.
        loss_cls (dict): Config of the loss. Defaults to ``dict(type='CrossEntropyLoss')``.
        label_smooth_eps (float): Label smoothing epsilon. Defaults to 0.
        average_clips (str, optional): How the scores of the views of a video are combined at test time: ``'prob'``,
            ``'score'`` or None. Defaults to ``'prob'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
        **kwargs: Other arguments of ``BaseHead`` (``topk``, ``multi_class``).
    """

    def __init__(self,
                 num_classes: Optional[int],
                 in_channels: int,
                 class_names: Union[Sequence[str], str],
                 text_encoder: Union[dict, nn.Module],
                 tokenizer: Union[dict, Callable[..., torch.Tensor]] = dict(type='CLIPTokenizer'),
                 templates: Union[str, Sequence[str]] = 'bare',
                 replace_underscores: bool = True,
                 freeze_text: bool = True,
                 logit_scale_init: float = math.log(1 / 0.07),
                 freeze_logit_scale: bool = True,
                 text_prompt: Optional[Union[dict, nn.Module]] = None,
                 text_batch_size: int = 512,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 label_smooth_eps: float = 0.,
                 average_clips: Optional[str] = 'prob',
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        names = resolve_class_names(class_names)
        if num_classes is None:
            num_classes = len(names)
        elif num_classes != len(names):
            raise ValueError(f'num_classes is {num_classes} but class_names holds {len(names)} names')
        super().__init__(
            num_classes,
            in_channels,
            loss_cls=loss_cls,
            label_smooth_eps=label_smooth_eps,
            average_clips=average_clips,
            init_cfg=init_cfg,
            **kwargs)
        self.text_encoder = MODELS.build(text_encoder) if isinstance(text_encoder, dict) else text_encoder
        embed_dim = getattr(self.text_encoder, 'embed_dim', in_channels)
        if embed_dim != in_channels:
            raise ValueError(f'in_channels ({in_channels}) must equal the embed_dim of the text encoder ({embed_dim})')
        self.text_prompt = MODELS.build(text_prompt) if isinstance(text_prompt, dict) else text_prompt
        if isinstance(tokenizer, dict):
            tokenizer = TOKENIZERS.build(tokenizer)
        self.text_bank = ClassTextBank(
            tokenizer,
            names,
            templates=templates,
            replace_underscores=replace_underscores,
            normalize=self.text_prompt is None,
            context_length=getattr(self.text_encoder, 'context_length', 77),
            batch_size=text_batch_size)
        self.freeze_text = freeze_text
        if freeze_text:
            self.text_encoder.requires_grad_(False)
            self.text_encoder.eval()
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale_init)), requires_grad=not freeze_logit_scale)

    @property
    def class_names(self) -> List[str]:
        """The current class names (a copy)."""
        return self.text_bank.class_names

    @property
    def templates(self) -> List[str]:
        """The current prompt templates (a copy)."""
        return self.text_bank.templates

    def set_class_names(self, class_names: Union[Sequence[str], str]) -> None:
        """Switch to another class list (a list or a file); ``num_classes`` follows.

        Args:
            class_names (Sequence[str] | str): The class names, or a label map / ``id,name`` CSV file.
        """
        names = resolve_class_names(class_names)
        self.text_bank.set_class_names(names)
        self.num_classes = len(names)

    def set_templates(self, templates: Union[str, Sequence[str]]) -> None:
        """Switch to other prompt templates (a named set or a list)."""
        self.text_bank.set_templates(templates)

    def train(self, mode: bool = True) -> 'TextPromptHead':
        """Set train/eval mode; a frozen text encoder stays in eval mode."""
        super().train(mode)
        if self.freeze_text:
            self.text_encoder.eval()
        return self

    def class_embeddings(self) -> torch.Tensor:
        """The class text embeddings ``(K, D)`` (normalised unless a ``text_prompt`` is used)."""
        return self.text_bank(self.text_encoder)

    def _split_feats(self, feats: FeatsType) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The video embeddings ``(B, D)`` and, if given, the visual tokens of ``feats``."""
        visual = None
        if isinstance(feats, (tuple, list)):
            video = feats[0]
            visual = feats[1] if len(feats) > 1 else None
        else:
            video = feats
        if self.text_prompt is not None and visual is None:
            raise ValueError(f'{self.__class__.__name__} with a text_prompt expects feats = (video_embeds, '
                             f'visual_tokens), got a single tensor')
        if video.dim() != 2 or video.shape[1] != self.in_channels:
            raise ValueError(f'{self.__class__.__name__} expects video embeddings of shape (B, {self.in_channels}), '
                             f'got {tuple(video.shape)}')
        return video, visual

    def forward(self, feats: FeatsType, **kwargs) -> torch.Tensor:
        """Class scores of the videos.

        Args:
            feats (torch.Tensor | tuple[torch.Tensor]): The video embeddings ``(B, D)``, or a tuple
                ``(video_embeds, visual_tokens, ...)``; the visual tokens are read only by ``text_prompt``.

        Returns:
            torch.Tensor: Logits of shape ``(B, K)``.
        """
        video, visual = self._split_feats(feats)
        text = self.class_embeddings().to(video.dtype)
        video = F.normalize(video, dim=-1)
        scale = self.logit_scale.exp()
        if self.text_prompt is None:
            return scale * video @ text.t()
        text = text.unsqueeze(0).expand(video.shape[0], -1, -1)
        text = F.normalize(text + self.text_prompt(text, visual), dim=-1)
        return scale * torch.einsum('bd,bkd->bk', video, text)
