"""Global average pooling of a feature map followed by a linear projection into a joint video-text space."""
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.registry import MODELS
from videoalign.structures import BackboneOutput, VideoFeatures


@MODELS.register_module()
class PoolProjection(BaseModule):
    """Average a backbone's features over all but the batch and channel axes and project them: ``proj(mean(x))``.

    It turns the last feature map of a convolutional video encoder (``stage_outputs[-1]``, ``(B, C, T, H, W)``, e.g.
    mmaction2's ``ResNet3d``) or the per-frame embeddings (``frame_embeds``, ``(B, T, C)``, with
    ``channel_last=True``) into the video embedding ``(B, embed_dims)`` that a
    :class:`~videoalign.models.heads.TextPromptHead` compares with class-name text embeddings, as CLIP's ``proj`` does
    for its image towers. The result is set as ``video_embeds`` of the :class:`~videoalign.structures.VideoFeatures`.

    Args:
        in_channels (int): Channels ``C`` of the backbone output.
        embed_dims (int): Width of the joint embedding space (the text encoder's ``embed_dim``).
        channel_last (bool): Whether to pool the channel-last ``frame_embeds`` ``(B, T, C)`` rather than the
            channel-first last map of ``stage_outputs``; a bare tensor from the backbone is taken as the one or the
            other. Defaults to False.
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

    def forward(self, x: BackboneOutput, **kwargs) -> Tuple[VideoFeatures, dict]:
        """Pool and project.

        Args:
            x (VideoFeatures | torch.Tensor | tuple[torch.Tensor]): The backbone output: features with
                ``stage_outputs`` (or ``frame_embeds`` if ``channel_last``), a feature map, or a tuple of stage maps.

        Returns:
            tuple[VideoFeatures, dict]: The features with ``video_embeds`` ``(B, embed_dims)`` set, and an empty
            ``loss_aux`` dict.
        """
        name = type(self).__name__
        field = 'frame_embeds' if self.channel_last else 'stage_outputs'
        features = VideoFeatures.wrap(x, tensor_field=field)
        x = features.require(field, name)
        if not self.channel_last:
            x = x[-1]
        channel_axis = x.dim() - 1 if self.channel_last else 1
        if x.dim() < 2 or x.shape[channel_axis] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects {self.in_channels} channels on axis {channel_axis}, got '
                             f'an input of shape {tuple(x.shape)}')
        axes = [axis for axis in range(1, x.dim()) if axis != channel_axis]
        if axes:
            x = x.mean(dim=axes)
        return features.updated(name, video_embeds=self.proj(self.dropout(x))), {}
