"""DualPath's MLP classifier (``VisionTransformer.head`` in ``park-jungin/DualPath``, ``CLIP_custom/clip/model.py``)."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures


@MODELS.register_module()
class DualPathHead(BaseHead):
    """``linear2(GELU(linear1([mean of the grid embeddings, mean of the frame embeddings])))``.

    The input is ``frame_embeds`` of the :class:`~videoalign.structures.VideoFeatures` of
    :class:`~videoalign.models.backbones.DualPathViT`, the per-image embeddings ``(N, Tt + Ts, D)`` with the ``Tt``
    grid images first: their mean and the mean of the last ``Ts`` frames are concatenated
    (``2 D``: 1024 for ViT-B/16) and go through the two-layer MLP. The layers keep PyTorch's default initialisation,
    as the official ``nn.Sequential(linear1, gelu, linear2)`` (keys ``linear1.*``, ``linear2.*``).

    Loss and prediction are mmaction2's ``BaseHead``; the views of a test video are merged by averaging logits
    (``average_clips='score'``), as the official ``merge``/``compute_video``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Width of the concatenated means, ``2 D``. Defaults to 1024.
        hidden_channels (int, optional): Width of ``linear1``'s output. None means ``in_channels // 2`` (the
            official ``output_dim``). Defaults to None.
        num_sparse_frames (int): The last ``Ts`` embeddings of each video are frames, the others grids.
            Defaults to 8.
        loss_cls (dict): Config of the loss. Defaults to ``dict(type='CrossEntropyLoss')``.
        average_clips (str, optional): How the views of a test video are combined: ``'score'``, ``'prob'`` or None.
            Defaults to ``'score'``.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None (PyTorch's default).
        **kwargs: Other arguments of ``BaseHead`` (``label_smooth_eps``, ``topk``, ``multi_class``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 1024,
                 hidden_channels: Optional[int] = None,
                 num_sparse_frames: int = 8,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 average_clips: Optional[str] = 'score',
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 **kwargs) -> None:
        super().__init__(
            num_classes, in_channels, loss_cls=loss_cls, average_clips=average_clips, init_cfg=init_cfg, **kwargs)
        if num_sparse_frames < 1:
            raise ValueError(f'num_sparse_frames must be at least 1, got {num_sparse_frames}')
        self.num_sparse_frames = num_sparse_frames
        self.hidden_channels = in_channels // 2 if hidden_channels is None else hidden_channels
        self.linear1 = nn.Linear(in_channels, self.hidden_channels)
        self.gelu = nn.GELU()
        self.linear2 = nn.Linear(self.hidden_channels, num_classes)

    def pre_logits(self, feats: Union[VideoFeatures, torch.Tensor]) -> torch.Tensor:
        """The mean grid embedding and the mean frame embedding of ``frame_embeds`` ``(N, Tt + Ts, D)``, concatenated.

        A bare tensor is taken as the per-image embeddings.
        """
        x = VideoFeatures.wrap(feats, tensor_field='frame_embeds').require('frame_embeds', type(self).__name__)
        if x.dim() != 3 or x.shape[1] <= self.num_sparse_frames:
            raise ValueError(f'DualPathHead takes (N, Tt + Ts, D) with Ts={self.num_sparse_frames} and Tt >= 1, '
                             f'got shape {tuple(x.shape)}')
        if 2 * x.shape[-1] != self.in_channels:
            raise ValueError(f'in_channels ({self.in_channels}) must be twice the embedding width {x.shape[-1]}')
        split = x.shape[1] - self.num_sparse_frames
        return torch.cat([x[:, :split].mean(1), x[:, split:].mean(1)], dim=-1)

    def forward(self, x: Union[VideoFeatures, torch.Tensor], **kwargs) -> torch.Tensor:
        """Class scores ``(N, num_classes)`` of the per-image embeddings ``frame_embeds`` ``(N, Tt + Ts, D)``."""
        return self.linear2(self.gelu(self.linear1(self.pre_logits(x))))
