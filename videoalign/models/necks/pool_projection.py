"""Global average pooling of a feature map followed by a linear projection into a joint video-text space."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.registry import MODELS


@MODELS.register_module()
class PoolProjection(BaseModule):
    """Average a backbone's output over all but the batch and channel axes and project it: ``proj(mean(x))``.

    It turns a convolutional video encoder (``(B, C, T, H, W)``, e.g. mmaction2's ``ResNet3d``) or per-frame
    embeddings (``(B, T, C)`` with ``channel_last=True``) into the video embedding ``(B, embed_dims)`` that a
    :class:`~videoalign.models.heads.TextPromptHead` compares with class-name text embeddings, as CLIP's ``proj`` does
    for its image towers.

    Args:
        in_channels (int): Channels ``C`` of the backbone output.
        embed_dims (int): Width of the joint embedding space (the text encoder's ``embed_dim``).
        channel_last (bool): Whether the channels are the last axis (``(B, T, C)``) rather than the second.
            Defaults to False.
        dropout (float): Dropout before the projection. Defaults to 0.
        bias (bool): Whether the projection has a bias. Defaults to False (as CLIP's ``proj``).
        init_cfg (dict, optional): Initialisation config. Defaults to normal with std ``in_channels ** -0.5``.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 channel_last: bool = False,
                 dropout: float = 0.,
                 bias: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        init_cfg = init_cfg or dict(type='Normal', layer='Linear', std=in_channels**-0.5)
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.channel_last = channel_last
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.proj = nn.Linear(in_channels, embed_dims, bias=bias)

    def forward(self, x: Union[torch.Tensor, Tuple[torch.Tensor, ...]], **kwargs) -> Tuple[torch.Tensor, dict]:
        """Pool and project.

        Args:
            x (torch.Tensor | tuple[torch.Tensor]): The backbone output, or a tuple whose first item it is.

        Returns:
            tuple[torch.Tensor, dict]: The video embeddings ``(B, embed_dims)`` and an empty ``loss_aux`` dict.
        """
        if isinstance(x, (tuple, list)):
            x = x[0]
        channel_axis = x.dim() - 1 if self.channel_last else 1
        if x.dim() < 2 or x.shape[channel_axis] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects {self.in_channels} channels on axis {channel_axis}, got '
                             f'an input of shape {tuple(x.shape)}')
        axes = [axis for axis in range(1, x.dim()) if axis != channel_axis]
        if axes:
            x = x.mean(dim=axes)
        return self.proj(self.dropout(x)), {}
