"""BEVT's masked visual-token prediction: a linear classifier over the codebook at the masked positions."""
import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

__all__ = ['MaskedTokenHead']


@MODELS.register_module()
class MaskedTokenHead(BaseModule):
    """Cross-entropy of the decoded tokens against the target generator's ids, at the masked positions only.

    The targets are the argmax ids of a frozen target generator (BEVT: the DALL-E dVAE encoder) on the tokenizer's
    copy of the same crop, one id per 16x16 pixels of each frame or image; ``lm_head`` classifies the decoded tokens
    of the masked positions. Official code: ``BEVTMultiSourceHead`` (``lm_head``, ``vae_encoder``; the logits of all
    tokens are computed there and then selected; selecting first gives the same values for half the work).

    Args:
        in_channels (int): Width of the decoded tokens. Defaults to 1024.
        num_tokens (int): Codebook size, the number of classes. Defaults to 8192.
        vae_encoder (dict | nn.Module): The target generator or its config; it maps ``(N, C, h, w)`` images to
            codebook logits ``(N, K, h', w')``; the head freezes it (no gradient, eval mode). Defaults to
            ``dict(type='DALLETargetGenerator')`` (``dict(type='mmpretrain.DALL-E')`` is the same network).
        loss_cls (dict): The classification loss. Defaults to ``dict(type='CrossEntropyLoss')`` (mmaction2's).
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to a truncated normal ``lm_head``
            (std 0.02, zero bias), as the official ``trunc_normal_init``.
    """

    def __init__(
        self,
        in_channels: int = 1024,
        num_tokens: int = 8192,
        vae_encoder: Union[dict, nn.Module] = dict(type='DALLETargetGenerator'),
        loss_cls: dict = dict(type='CrossEntropyLoss'),
        init_cfg: Optional[Union[dict, List[dict]]] = dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)
    ) -> None:
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        self.lm_head = nn.Linear(in_channels, num_tokens)
        self.vae_encoder = MODELS.build(vae_encoder) if isinstance(vae_encoder, dict) else vae_encoder
        self.vae_encoder.requires_grad_(False)
        self.vae_encoder.eval()
        self.loss_cls = MODELS.build(loss_cls)
        self.num_tokens = num_tokens

    def train(self, mode: bool = True) -> 'MaskedTokenHead':
        """Set the train mode of ``lm_head``; the target generator stays in eval mode."""
        super().train(mode)
        self.vae_encoder.eval()
        return self

    @torch.no_grad()
    def targets(self, images: torch.Tensor) -> torch.Tensor:
        """Token ids ``(B, T, L)`` of the tokenizer inputs: clips ``(B, C, T, h, w)`` or images ``(B, C, h, w)``."""
        if images.dim() == 4:
            return self.vae_encoder(images).argmax(dim=1).flatten(1)[:, None]
        if images.dim() != 5:
            raise ValueError(f'expected tokenizer inputs (B, C, T, h, w) or (B, C, h, w), got {tuple(images.shape)}')
        batch, frames = images.shape[0], images.shape[2]
        logits = self.vae_encoder(images.transpose(1, 2).flatten(0, 1))
        return logits.argmax(dim=1).flatten(1).view(batch, frames, -1)

    def loss(self, features: VideoFeatures, tokenizer_inputs: torch.Tensor,
             target_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The masked-token loss and accuracy of one stream.

        Args:
            features (VideoFeatures): ``patch_tokens`` ``(B, T, L, C)``, the decoded tokens (``T = 1`` for images).
            tokenizer_inputs (torch.Tensor): The target generator's inputs, clips ``(B, C, T, h, w)`` or images
                ``(B, C, h, w)``.
            target_mask (torch.Tensor): Bool, the positions with a loss: ``(B, T, h', w')`` or ``(B, h', w')`` with
                ``h' * w' = L``.

        Returns:
            dict[str, torch.Tensor]: ``loss_cls`` and ``mask_acc`` (the top-1 accuracy on the masked positions).
        """
        tokens = features.require('patch_tokens', type(self).__name__)
        targets = self.targets(tokenizer_inputs)
        batch, frames, length = tokens.shape[:3]
        if targets.shape != (batch, frames, length) or target_mask.numel() != batch * frames * length:
            raise ValueError(f'the decoded tokens {tuple(tokens.shape[:3])}, the target ids {tuple(targets.shape)} '
                             f'and the target mask {tuple(target_mask.shape)} must cover the same (B, T, L) '
                             f'positions: check the tokenizer input size (the token grid times 8 for the dVAE)')
        mask = target_mask.reshape(batch, frames, length).bool()
        logits = self.lm_head(tokens[mask])
        labels = targets[mask]
        loss = self.loss_cls(logits, labels)
        with torch.no_grad():
            accuracy = (logits.argmax(dim=-1) == labels).float().mean()
        return dict(loss_cls=loss, mask_acc=accuracy)
