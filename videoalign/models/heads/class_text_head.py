"""The common base of the heads that score a video against the text embedding of each class name."""
from abc import abstractmethod
from typing import Callable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead

from videoalign.datasets.class_names import check_class_names
from videoalign.models.layers import scaled_cosine_similarity
from videoalign.models.text import ClassTextBank
from videoalign.registry import MODELS, TOKENIZERS
from videoalign.structures import VideoFeatures


class ClassTextHead(BaseHead):
    """Logits ``scale * cos(video embedding, class text embedding)`` over a list of class names (abstract).

    What the text-classifier heads share: the class names and their :class:`~videoalign.models.text.ClassTextBank`
    (tokens, prompts, cached embeddings), ``set_class_names`` for another class list at run time, the text encoder
    (built, checked against ``in_channels``, and kept frozen and in eval mode if ``freeze_text``) and the score
    :func:`~videoalign.models.layers.scaled_cosine_similarity` of the ``video_embeds`` of the
    :class:`~videoalign.structures.VideoFeatures` (or of a bare ``(B, D)`` tensor).

    Subclasses implement :meth:`class_embeddings` and register ``logit_scale``, the log of the inverse temperature,
    as a parameter or a buffer; they may override :meth:`text_embeddings` to make per-video class embeddings.

    Class names are data, not a construction input: the head builds without them, and takes them from the dataset it
    runs on (:class:`~videoalign.engine.hooks.ClassNamesHook`), from a checkpoint's ``meta['dataset_meta']``
    (:func:`~videoalign.apis.init_model`) or from :meth:`set_class_names` (open-vocabulary inference).

    Loss and prediction are mmaction2's ``BaseHead``: hard or blended (mixup/cutmix) soft labels, label smoothing
    over ``num_classes`` (kept equal to the number of class names), and ``average_clips`` over the views of a video.

    Args:
        in_channels (int): Width ``D`` of the video embedding; must equal the text encoder's ``embed_dim``.
        text_encoder (dict | nn.Module): The text encoder or its config; it maps token ids ``(N, L)`` to ``(N, D)``.
        class_names (Sequence[str], optional): The class names. Defaults to None (set later).
        num_classes (int, optional): Number of classes, a check: it must equal the number of class names. Defaults
            to None (the number of class names, 0 without them).
        tokenizer (dict | Callable): The tokenizer or its config (in ``TOKENIZERS``). Defaults to
            ``dict(type='CLIPTokenizer')``.
        templates (str | Sequence[str]): The prompt templates of the bank (a named set or a list). Defaults to
            ``'bare'``.
        replace_underscores (bool): Whether underscores in class names are written as spaces. Defaults to True.
        normalize_text (bool): Whether the bank L2-normalises the class embeddings. Defaults to True.
        freeze_text (bool): Whether the text encoder is frozen: no gradient, and kept in eval mode when the head is
            put in train mode. Defaults to True.
        text_batch_size (int): Prompts per text-encoder call. Defaults to 512.
        loss_cls (dict): Config of the loss. Defaults to ``dict(type='CrossEntropyLoss')``.
        average_clips (str, optional): How the scores of the views of a video are combined at test time: ``'prob'``,
            ``'score'`` or None. Defaults to ``'prob'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
        **kwargs: Other arguments of ``BaseHead`` (``label_smooth_eps``, ``topk``, ``multi_class``).
    """

    def __init__(self,
                 in_channels: int,
                 text_encoder: Union[dict, nn.Module],
                 class_names: Optional[Sequence[str]] = None,
                 num_classes: Optional[int] = None,
                 tokenizer: Union[dict, Callable[..., torch.Tensor]] = dict(type='CLIPTokenizer'),
                 templates: Union[str, Sequence[str]] = 'bare',
                 replace_underscores: bool = True,
                 normalize_text: bool = True,
                 freeze_text: bool = True,
                 text_batch_size: int = 512,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 average_clips: Optional[str] = 'prob',
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        names = [] if class_names is None else check_class_names(class_names)
        if num_classes is None:
            num_classes = len(names)
        elif num_classes != len(names):
            raise ValueError(f'num_classes is {num_classes} but class_names holds {len(names)} names (class names '
                             f'are data: give them to the dataset, and leave num_classes out)')
        super().__init__(
            num_classes, in_channels, loss_cls=loss_cls, average_clips=average_clips, init_cfg=init_cfg, **kwargs)
        self.text_encoder = MODELS.build(text_encoder) if isinstance(text_encoder, dict) else text_encoder
        embed_dim = getattr(self.text_encoder, 'embed_dim', in_channels)
        if embed_dim != in_channels:
            raise ValueError(f'in_channels ({in_channels}) must equal the embed_dim of the text encoder ({embed_dim})')
        if isinstance(tokenizer, dict):
            tokenizer = TOKENIZERS.build(tokenizer)
        self.text_bank = ClassTextBank(
            tokenizer,
            names,
            templates=templates,
            replace_underscores=replace_underscores,
            normalize=normalize_text,
            context_length=getattr(self.text_encoder, 'context_length', 77),
            batch_size=text_batch_size)
        self.freeze_text = freeze_text
        if freeze_text:
            self.text_encoder.requires_grad_(False)
            self.text_encoder.eval()

    @property
    def class_names(self) -> List[str]:
        """The current class names (a copy; empty before any are set)."""
        return self.text_bank.class_names

    def set_class_names(self, class_names: Optional[Sequence[str]]) -> None:
        """Switch to another class list; ``num_classes`` follows.

        Args:
            class_names (Sequence[str], optional): The class names; None removes them.
        """
        names = [] if class_names is None else check_class_names(class_names)
        self.text_bank.set_class_names(names)
        self.num_classes = len(names)

    def train(self, mode: bool = True) -> 'ClassTextHead':
        """Set train/eval mode; a frozen text encoder stays in eval mode."""
        super().train(mode)
        if self.freeze_text:
            self.text_encoder.eval()
        return self

    @abstractmethod
    def class_embeddings(self) -> torch.Tensor:
        """The class text embeddings ``(K, D)``."""

    def text_embeddings(self, features: VideoFeatures, video: torch.Tensor) -> torch.Tensor:
        """The class embeddings the videos are scored against: :meth:`class_embeddings` in the dtype of ``video``.

        Args:
            features (VideoFeatures): The features of the videos.
            video (torch.Tensor): Their video embeddings ``(B, D)``.

        Returns:
            torch.Tensor: ``(K, D)``, shared by all videos, or ``(B, K, D)``, one set per video.
        """
        return self.class_embeddings().to(video.dtype)

    def forward(self, feats: Union[VideoFeatures, torch.Tensor], **kwargs) -> torch.Tensor:
        """Class scores of the videos.

        Args:
            feats (VideoFeatures | torch.Tensor): Features with ``video_embeds`` ``(B, D)`` (and what
                :meth:`text_embeddings` reads), or the video embeddings.

        Returns:
            torch.Tensor: Logits of shape ``(B, K)``.
        """
        if not self.num_classes:
            raise RuntimeError(f'{type(self).__name__} has no class names to score: they come from the dataset (its '
                               f'class_names), from the checkpoint (init_model) or from set_class_names([...])')
        features = VideoFeatures.wrap(feats, tensor_field='video_embeds')
        video = features.require('video_embeds', type(self).__name__)
        if video.dim() != 2 or video.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects video embeddings of shape (B, {self.in_channels}), '
                             f'got {tuple(video.shape)}')
        return scaled_cosine_similarity(video, self.text_embeddings(features, video), self.logit_scale.exp())
