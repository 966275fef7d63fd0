"""The common interface of the necks that turn per-frame embeddings into one video embedding."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from videoalign.structures import BackboneOutput, VideoFeatures


class FrameIntegrationNeck(BaseModule):
    """A neck of a recognizer that integrates the frame embeddings ``(B, T, D)`` into a video embedding ``(B, D)``.

    Subclasses implement :meth:`integrate`. The neck reads ``frame_embeds`` of the backbone's
    :class:`~videoalign.structures.VideoFeatures` and returns them with ``video_embeds`` set, the other fields
    (e.g. X-CLIP's ``patch_tokens``) unchanged. A bare tensor input is taken as the frame embeddings (a
    ``torch.nn.Identity`` backbone on cached per-frame features).
    """

    def integrate(self, frame_embeds: torch.Tensor) -> torch.Tensor:
        """Integrate frame embeddings ``(B, T, D)`` into video embeddings ``(B, D)``."""
        raise NotImplementedError

    def forward(self, x: BackboneOutput, data_samples: Optional[list] = None, **kwargs) -> Tuple[VideoFeatures, dict]:
        """Integrate the frame embeddings of the backbone output.

        Args:
            x (VideoFeatures | torch.Tensor): Features with ``frame_embeds`` ``(B, T, D)``, or the frame embeddings.
            data_samples (list, optional): Unused; ``Recognizer3D`` passes it in training. Defaults to None.

        Returns:
            tuple[VideoFeatures, dict]: The features with ``video_embeds`` ``(B, D)`` set, and an empty
            ``loss_aux`` dict.
        """
        name = type(self).__name__
        features = VideoFeatures.wrap(x, tensor_field='frame_embeds')
        video_embeds = self.integrate(features.require('frame_embeds', name))
        return features.updated(name, video_embeds=video_embeds), dict()
