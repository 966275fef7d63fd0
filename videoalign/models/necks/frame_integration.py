"""The common interface of the necks that turn per-frame embeddings into one video embedding."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

NeckInput = Union[torch.Tensor, Sequence[torch.Tensor]]


class FrameIntegrationNeck(BaseModule):
    """A neck of mmaction2's ``Recognizer3D`` that integrates frame embeddings ``(B, T, D)`` into ``(B, D)``.

    Subclasses implement :meth:`integrate`. The backbone output is either the frame embeddings or a tuple whose first
    item they are (X-CLIP's backbone returns ``(cls, patch_tokens)``): the first item is integrated and the others
    pass through unchanged.
    """

    def integrate(self, frame_embeds: torch.Tensor) -> torch.Tensor:
        """Integrate frame embeddings ``(B, T, D)`` into video embeddings ``(B, D)``."""
        raise NotImplementedError

    def forward(self, x: NeckInput, data_samples: Optional[list] = None,
                **kwargs) -> Tuple[Union[torch.Tensor, Tuple[torch.Tensor, ...]], dict]:
        """Integrate the frame embeddings of the backbone output.

        Args:
            x (torch.Tensor or Sequence[torch.Tensor]): Frame embeddings ``(B, T, D)``, or a tuple whose first item
                they are; the other items (e.g. patch tokens ``(B, T, N, W)``) pass through.
            data_samples (list, optional): Unused; ``Recognizer3D`` passes it in training. Defaults to None.

        Returns:
            tuple: ``(video_embeds (B, D), loss_aux)`` for a tensor input, ``((video_embeds, *rest), loss_aux)`` for a
            tuple input; ``loss_aux`` is an empty dict.
        """
        if isinstance(x, torch.Tensor):
            return self.integrate(x), dict()
        frame_embeds, *rest = x
        return (self.integrate(frame_embeds), *rest), dict()
