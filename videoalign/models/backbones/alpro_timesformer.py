"""ALPRO's video encoder: mmaction2's TimeSformer (divided space-time) returning ALPRO's temporally pooled tokens.

ALPRO (official code ``salesforce/ALPRO``, ``src/modeling/timesformer/vit.py``) encodes a clip with a TimeSformer-B/16
and hands every later module ``[CLS] + mean over time of the patch tokens`` (``TimeSformer.forward_features(...,
pooling='temporal')``): ``1 + (H/16) * (W/16)`` tokens (197 at 224 px) whatever the number of frames. mmaction2's
``TimeSformer`` is numerically the official ``VisionTransformer`` once the keys are mapped
(:func:`videoalign.models.converters.convert_alpro_visual`), with the same ``(p t)`` token order, but it returns only
the CLS token; :class:`ALPROTimeSformer` keeps its modules and key names and adds the pooling, the official resize of
``pos_embed`` / ``time_embed`` on load, and optional activation checkpointing.
"""
from typing import List, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from mmaction.models.backbones import TimeSformer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch.utils.checkpoint import checkpoint

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

__all__ = ['ALPROTimeSformer', 'resize_embed_nearest', 'temporal_pool']


def resize_embed_nearest(embed: torch.Tensor, length: int, num_extra_tokens: int = 0) -> torch.Tensor:
    """Resize a ``(1, L, D)`` embedding along ``L`` by 1-D nearest interpolation, as ALPRO does on load.

    The official ``load_state_dict_with_pos_embed_resizing`` (``src/utils/load_save.py``) interpolates ``time_embed``
    ``(1, T, D)`` over the frames, and the patch part of ``pos_embed`` ``(1, 1 + N, D)`` over the flattened ``N``
    tokens (not over a 2-D grid), keeping the CLS position: ``F.interpolate(x.transpose(1, 2), size=n,
    mode='nearest')``, i.e. ``out[i] = in[floor(i * L_in / L_out)]``.

    Args:
        embed (torch.Tensor): The embedding, shape ``(1, num_extra_tokens + L_in, D)``.
        length (int): The wanted number of tokens after the extra tokens, ``L_out``.
        num_extra_tokens (int): Leading tokens kept as they are (1 for the CLS position of ``pos_embed``, 0 for
            ``time_embed``). Defaults to 0.

    Returns:
        torch.Tensor: Shape ``(1, num_extra_tokens + length, D)``, in the dtype of ``embed``.

    Raises:
        ValueError: If ``embed`` is not ``(1, L, D)`` with more than ``num_extra_tokens`` tokens, or ``length < 1``.
    """
    if embed.dim() != 3 or embed.shape[0] != 1 or embed.shape[1] <= num_extra_tokens:
        raise ValueError(f'expected an embedding of shape (1, {num_extra_tokens} + L, D) with L >= 1, got '
                         f'{tuple(embed.shape)}')
    if length < 1:
        raise ValueError(f'expected a length >= 1 to resize to, got {length}')
    extra, tokens = embed[:, :num_extra_tokens], embed[:, num_extra_tokens:]
    if tokens.shape[1] == length:
        return embed
    tokens = F.interpolate(tokens.transpose(1, 2).float(), size=length, mode='nearest')
    return torch.cat([extra, tokens.transpose(1, 2).to(embed.dtype)], dim=1)


def temporal_pool(tokens: torch.Tensor, num_frames: int) -> torch.Tensor:
    """ALPRO's ``pooling='temporal'``: the CLS token, then each patch's token averaged over the frames.

    Args:
        tokens (torch.Tensor): All tokens of the encoder, ``(B, 1 + N * T, D)``, the CLS token first and the others
            in TimeSformer's ``(p t)`` order (patch-major, frame-minor).
        num_frames (int): ``T``.

    Returns:
        torch.Tensor: ``(B, 1 + N, D)``.

    Raises:
        ValueError: If the number of patch tokens is not a multiple of ``num_frames``.
    """
    batch, length, dim = tokens.shape
    if (length - 1) % num_frames:
        raise ValueError(f'{length - 1} patch tokens are not a whole number of {num_frames} frames')
    patches = tokens[:, 1:].reshape(batch, (length - 1) // num_frames, num_frames, dim).mean(dim=2)
    return torch.cat([tokens[:, :1], patches], dim=1)


def _divided_space_time_layers(embed_dims: int, num_heads: int, num_frames: int, num_layers: int,
                               feedforward_channels: int, drop_path_rate: float, norm_eps: float) -> dict:
    """The config of mmaction2's divided space-time layers, as ``TimeSformer`` builds it, with the drop-path rate
    and the LayerNorm eps as arguments (mmaction2 fixes them to 0.1 and 1e-6)."""
    dpr = np.linspace(0, drop_path_rate, num_layers)  # the official: torch.linspace(0, drop_path_rate, depth)
    norm_cfg = dict(type='LN', eps=norm_eps)
    layers = []
    for i in range(num_layers):
        drop_path = dict(type='DropPath', drop_prob=float(dpr[i]))
        attn = dict(
            embed_dims=embed_dims,
            num_heads=num_heads,
            num_frames=num_frames,
            dropout_layer=drop_path,
            norm_cfg=norm_cfg)
        layers.append(
            dict(
                type='mmaction.BaseTransformerLayer',
                attn_cfgs=[
                    dict(type='mmaction.DividedTemporalAttentionWithNorm', **attn),
                    dict(type='mmaction.DividedSpatialAttentionWithNorm', **attn)
                ],
                ffn_cfgs=dict(
                    type='mmaction.FFNWithNorm',
                    embed_dims=embed_dims,
                    feedforward_channels=feedforward_channels,
                    num_fcs=2,
                    act_cfg=dict(type='GELU'),
                    dropout_layer=drop_path,
                    norm_cfg=norm_cfg),
                operation_order=('self_attn', 'self_attn', 'ffn')))
    return dict(type='mmaction.TransformerLayerSequence', transformerlayers=layers, num_layers=num_layers)


@MODELS.register_module()
class ALPROTimeSformer(TimeSformer, BaseModule):
    """ALPRO's TimeSformer video encoder (divided space-time attention) with ALPRO's temporal pooling.

    A subclass of mmaction2's ``TimeSformer``: the same modules and key names (``patch_embed.projection``,
    ``cls_token``, ``pos_embed``, ``time_embed``, ``transformer_layers.layers.N.{attentions.0 (temporal),
    attentions.1 (spatial), ffns.0}``, ``norm``). The defaults are ALPRO's TimeSformer-B/16
    (``config_release/timesformer_divst_8x32_224_k600.json``): 224 px, patch 16, width 768, 12 layers, 12 heads, MLP
    ratio 4, qkv bias, drop path linearly from 0 to 0.1, no attention or embedding dropout, LayerNorm eps 1e-6.

    The forward returns ``video_tokens`` ``(B, 1 + N, D)``: the final LayerNorm on all ``1 + N * T`` tokens, then
    ``[CLS] + mean over T of each patch's tokens``, where the official ``TimeSformer.forward_features(...,
    pooling='temporal')`` applies them. The clips must have ``num_frames`` frames of ``img_size`` pixels, as in the
    official code, whose pooling hard-codes both (ALPRO pretrains with 4 frames, fine-tunes retrieval with 8 and QA
    with 16; a checkpoint of another T is resized on load).

    Loading a state dict (``load_state_dict``, mmengine's ``Pretrained`` init, a runner's ``load_from``) whose
    ``pos_embed`` or ``time_embed`` has another length than this model's resizes it as the official loader does
    (:func:`resize_embed_nearest`). Official ALPRO keys (``visual_encoder.model.*``) map to this class's with
    :func:`videoalign.models.converters.convert_alpro_visual`.

    Args:
        num_frames (int): Frames per clip ``T``. Defaults to 8 (ALPRO's retrieval fine-tuning).
        img_size (int): Frame size in pixels (square). Defaults to 224.
        patch_size (int): Patch size in pixels. Defaults to 16.
        embed_dims (int): Token width. Defaults to 768.
        num_heads (int): Attention heads. Defaults to 12.
        num_transformer_layers (int): Blocks. Defaults to 12.
        in_channels (int): Input channels. Defaults to 3.
        mlp_ratio (float): Hidden width of the MLP over ``embed_dims``. Defaults to 4.
        drop_path_rate (float): Stochastic depth of the last block; block ``i`` drops with
            ``linspace(0, drop_path_rate, num_transformer_layers)[i]``. Defaults to 0.1.
        norm_eps (float): Epsilon of every LayerNorm. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing of each block in training, trading compute for memory (ALPRO's QA
            recipe used it). Defaults to False.
        init_cfg (dict | list[dict], optional): mmengine initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``. Defaults to None.
    """

    def __init__(self,
                 num_frames: int = 8,
                 img_size: int = 224,
                 patch_size: int = 16,
                 embed_dims: int = 768,
                 num_heads: int = 12,
                 num_transformer_layers: int = 12,
                 in_channels: int = 3,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        if img_size % patch_size:
            raise ValueError(f'img_size must be a multiple of patch_size, got img_size={img_size} and '
                             f'patch_size={patch_size}')
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims must be a multiple of num_heads, got embed_dims={embed_dims} and '
                             f'num_heads={num_heads}')
        layers = _divided_space_time_layers(embed_dims, num_heads, num_frames, num_transformer_layers,
                                            int(embed_dims * mlp_ratio), drop_path_rate, norm_eps)
        # TimeSformer passes init_cfg on to the next class in the MRO, BaseModule
        super().__init__(
            num_frames=num_frames,
            img_size=img_size,
            patch_size=patch_size,
            embed_dims=embed_dims,
            num_heads=num_heads,
            num_transformer_layers=num_transformer_layers,
            in_channels=in_channels,
            dropout_ratio=0.,
            transformer_layers=layers,
            attention_type='divided_space_time',
            norm_cfg=dict(type='LN', eps=norm_eps),
            init_cfg=init_cfg)
        self.img_size = img_size
        self.patch_size = patch_size
        self.num_patches = self.patch_embed.num_patches
        self.drop_path_rate = drop_path_rate
        self.with_cp = with_cp
        self.register_load_state_dict_pre_hook(type(self)._resize_embeds)

    def _resize_embeds(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Load-state-dict pre-hook: resize a checkpoint's ``pos_embed`` / ``time_embed`` of another length.

        An embedding of another width or rank is left as it is, for ``load_state_dict`` to report the mismatch.
        """
        for name, target, num_extra_tokens in (('pos_embed', self.pos_embed, 1), ('time_embed', self.time_embed, 0)):
            key = prefix + name
            value = state_dict.get(key)
            if not isinstance(value, torch.Tensor) or value.shape == target.shape:
                continue
            if value.dim() != 3 or value.shape[0] != 1 or value.shape[2] != target.shape[2] or \
                    value.shape[1] <= num_extra_tokens:
                continue
            print_log(
                f'resize {key} from {tuple(value.shape)} to {tuple(target.shape)} (nearest, as ALPRO)',
                logger='current')
            state_dict[key] = resize_embed_nearest(value, target.shape[1] - num_extra_tokens, num_extra_tokens)

    def init_weights(self) -> None:
        """mmaction2's random initialisation (truncated normal ``pos_embed`` and ``cls_token``; the modules'
        own initialisation, ``temporal_fc`` zero), then ``init_cfg`` (a ``Pretrained`` entry is applied last)."""
        if not self.is_init:
            trunc_normal_(self.pos_embed, std=.02)
            trunc_normal_(self.cls_token, std=.02)
        BaseModule.init_weights(self)

    def forward_all_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """All tokens after the final LayerNorm (the official ``forward_features(x, return_all_tokens=True)``).

        Args:
            x (torch.Tensor): Clips ``(B, C, T, H, W)`` with ``T = num_frames`` and ``H = W = img_size``.

        Returns:
            torch.Tensor: ``(B, 1 + N * T, D)``, the CLS token first, then the patch tokens in ``(p t)`` order.

        Raises:
            ValueError: If ``x`` is not such a clip.
        """
        if x.dim() != 5:
            raise ValueError(f'{type(self).__name__} takes clips of shape (B, C, T, H, W), got shape '
                             f'{tuple(x.shape)}')
        if x.shape[2] != self.num_frames or tuple(x.shape[3:]) != (self.img_size, self.img_size):
            raise ValueError(f'this {type(self).__name__} takes clips of num_frames={self.num_frames} frames of '
                             f'{self.img_size}x{self.img_size} pixels, got shape {tuple(x.shape)} (B, C, T, H, W)')
        batch = x.shape[0]
        x = self.patch_embed(x)  # (B * T, N, D), the frames of a clip contiguous
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.drop_after_pos(x + self.pos_embed)

        cls_tokens = x[:batch, :1]  # every frame's CLS token is cls_token + pos_embed[:, 0]
        x = rearrange(x[:, 1:], '(b t) p m -> (b p) t m', b=batch)
        x = self.drop_after_time(x + self.time_embed)
        x = rearrange(x, '(b p) t m -> b (p t) m', b=batch)
        x = torch.cat([cls_tokens, x], dim=1)

        for layer in self.transformer_layers.layers:
            if self.with_cp and self.training:
                x = checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        return self.norm(x)

    def forward(self, x: torch.Tensor) -> VideoFeatures:
        """Encode clips into ALPRO's video tokens.

        Args:
            x (torch.Tensor): Clips ``(B, C, T, H, W)`` with ``T = num_frames`` and ``H = W = img_size``.

        Returns:
            VideoFeatures: ``video_tokens`` ``(B, 1 + N, D)``: the CLS token and the ``N = (img_size /
            patch_size)^2`` patch tokens averaged over the frames, all after the final LayerNorm.
        """
        tokens = temporal_pool(self.forward_all_tokens(x), self.num_frames)
        return VideoFeatures(video_tokens=tokens, source=type(self).__name__)
