"""A linear classifier on the frame features averaged over time (AIM's use of mmaction2's ``I3DHead``)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures


@MODELS.register_module()
class FrameAverageHead(BaseHead):
    """``fc_cls(dropout(mean over T of the frame features))``.

    AIM reshapes its per-frame CLS tokens to ``(B, D, T, 1, 1)`` for mmaction's ``I3DHead``, whose
    ``AdaptiveAvgPool3d`` is the average over the T frames, followed by dropout (0.5) and ``fc_cls``
    (normal init, std 0.01, bias 0). This head reads ``frame_embeds`` ``(B, T, D)`` of the
    :class:`~videoalign.structures.VideoFeatures` of :class:`~videoalign.models.backbones.CLIPViT` and computes the
    same logits; the parameters are named ``fc_cls.*``, so official ``cls_head.fc_cls.*`` weights load by name.

    Loss and prediction are mmaction2's ``BaseHead`` (label smoothing, ``average_clips`` over the views of a video).

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Feature width ``D``.
        loss_cls (dict): Config of the loss. Defaults to ``dict(type='CrossEntropyLoss')``.
        dropout_ratio (float): Dropout before ``fc_cls``. Defaults to 0.5.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to a normal init of ``fc_cls``
            with std 0.01 and bias 0 (``I3DHead``'s ``init_std``).
        **kwargs: Other arguments of ``BaseHead`` (``label_smooth_eps``, ``average_clips``, ``topk``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 dropout_ratio: float = 0.5,
                 init_cfg: Optional[Union[dict, list]] = dict(type='Normal', layer='Linear', std=0.01, bias=0.),
                 **kwargs) -> None:
        if num_classes < 1 or in_channels < 1:
            raise ValueError(f'num_classes and in_channels must be positive, got {num_classes} and {in_channels}')
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'dropout_ratio must be in [0, 1), got {dropout_ratio}')
        super().__init__(num_classes, in_channels, loss_cls, init_cfg=init_cfg, **kwargs)
        self.dropout_ratio = dropout_ratio
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Union[VideoFeatures, torch.Tensor]) -> torch.Tensor:
        """The video feature ``(B, D)``: ``frame_embeds`` ``(B, T, D)`` averaged over T.

        A bare tensor is taken as the frame embeddings; one of shape ``(B, D)`` is used as it is.
        """
        feats = VideoFeatures.wrap(feats, tensor_field='frame_embeds').require('frame_embeds', type(self).__name__)
        if feats.dim() == 3:
            feats = feats.mean(dim=1)
        elif feats.dim() != 2:
            raise ValueError(f'{type(self).__name__} takes features of shape (B, T, D) or (B, D), got shape '
                             f'{tuple(feats.shape)}')
        if feats.shape[-1] != self.in_channels:
            raise ValueError(f'{type(self).__name__}: features of width {feats.shape[-1]} but '
                             f'in_channels={self.in_channels}')
        return feats

    def forward(self, x: Union[VideoFeatures, torch.Tensor], **kwargs) -> torch.Tensor:
        """Class scores ``(B, num_classes)`` of the ``frame_embeds`` ``(B, T, D)`` of ``x`` (or of a bare tensor)."""
        return self.fc_cls(self.dropout(self.pre_logits(x)))
