"""BEVT's pretraining encoder: one Video Swin shared by a video stream and an image stream, with both decoders.

Official code: ``xyzforever/BEVT`` ``mmaction/models/backbones/swin_transformer_bevt.py`` (``SwinTransformerBEVT``,
commit ``8881b21``). The blocks, patch merging and 3D patch embedding are mmaction2's
(``mmaction.models.backbones.swin``), whose key names and video forward are the official ones; this file adds the
image stream, the mask token and the decoders, under the official key names.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.backbones.swin import (BasicLayer, PatchEmbed3D, PatchMerging, SwinTransformer3D, compute_mask,
                                            window_partition, window_reverse)
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

__all__ = ['SwinTransformerBEVT']


class PatchEmbed2D(BaseModule):
    """The image stream's patch embedding: a ``k x k`` convolution of stride ``k``, then a LayerNorm over channels.

    Args:
        patch_size (int): The patch side ``k``.
        in_channels (int): Image channels.
        embed_dims (int): Output channels.
        norm_cfg (dict, optional): The norm after the projection. Defaults to None (no norm).
    """

    def __init__(self, patch_size: int, in_channels: int, embed_dims: int, norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dims, kernel_size=patch_size, stride=patch_size)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1] if norm_cfg is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` images to ``(B, embed_dims, H / k, W / k)`` patch embeddings."""
        x = self.proj(x)
        if self.norm is not None:
            x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x


@MODELS.register_module()
class SwinTransformerBEVT(BaseModule):
    """A Video Swin encoder shared by masked video and masked image modelling, with BEVT's two decoders.

    **Video stream** (``(B, C, T, H, W)``): ``patch_embed`` (3D), the mask token at the masked positions, the four
    stages; the decoder upsamples the stage-4 output spatially (``fpn_s``), concatenates the stage-3 output,
    projects (``lm_down_st``), upsamples in time back to one map per frame (``fpn_t``) and applies the shared ``norm``:
    ``patch_tokens`` ``(B, T, H/16 * W/16, C4)``, one token per 16x16 pixels of each frame.

    **Image stream** (``(B, C, H, W)``): ``patch_embed_2d``, the mask token, the same stages as a one-frame clip; the
    decoder upsamples stage 4 (``fpn``), concatenates stage 3, projects (``lm_down``) and applies the same ``norm``:
    ``patch_tokens`` ``(B, 1, H/16 * W/16, C4)``. An image window is the first ``7 x 7`` tokens of a 3D window, so its
    attention reads the temporal-offset-0 rows of the single 3D relative-position table; there is no 2D table.

    ``official_image_windows`` (default True) reproduces the official image path, with which the released checkpoints
    were trained: the shifted-window mask is applied in the non-shifted blocks too, the shift is kept when the feature
    map is no larger than the window (stage 4 at 224 px: a 7x7 map, window 7, shift 3), and there is no padding (the
    maps of every stage must be multiples of the window: 224 px with window 7). With False, the image stream is the
    video path on a one-frame clip (mmaction2's windows: no mask without a shift, no shift at stage 4, padding). Only
    pretraining runs the image stream, so fine-tuning is the same either way.

    Both streams keep the official constraints of the decoders: stage 3 must be twice stage 4 in each spatial side
    (``H / 16`` even) and the stage-3 map is the token grid (the tokenizer's grid: 14x14 at 224 px).

    Output: :class:`~videoalign.structures.VideoFeatures` with ``patch_tokens`` (the decoded tokens, normalised),
    ``stage_outputs`` (the un-normalised outputs of the last two stages, channel-first ``(B, C, T', H', W')``, one
    frame for images) and ``masks`` (the input mask, ``(B, T', h, w)``; ``(B, 1, h, w)`` for images).

    Args:
        arch (str | dict): ``'tiny'``, ``'small'``, ``'base'`` or ``'large'`` (mmaction2's ``SwinTransformer3D``
            table), or a dict with ``embed_dims``, ``depths`` and ``num_heads`` (at least two stages). Defaults to
            ``'base'``.
        patch_size (Sequence[int]): The 3D patch ``(t, k, k)``; images use ``k x k``, and ``fpn_t`` upsamples time by
            ``t``. Defaults to ``(2, 4, 4)``.
        in_channels (int): Input channels. Defaults to 3.
        window_size (Sequence[int]): The 3D window ``(Wd, Wh, Ww)``; images use ``Wh x Ww``. Defaults to
            ``(8, 7, 7)``.
        mlp_ratio (float): MLP width over the token width. Defaults to 4.
        qkv_bias (bool): Whether q, k, v have biases. Defaults to True.
        qk_scale (float, optional): Overrides ``head_dim ** -0.5``. Defaults to None.
        drop_rate (float): Dropout after the patch embedding and in the blocks. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, rising linearly over the blocks. Defaults to 0.3 (BEVT-B).
        patch_norm (bool): Whether both patch embeddings end with a LayerNorm. Defaults to True.
        norm_cfg (dict): The norm layers. Defaults to ``dict(type='LN')``.
        with_cp (bool): Activation checkpointing of the blocks (video stream, and the image stream with
            ``official_image_windows=False``). Defaults to False.
        official_image_windows (bool): Reproduce the official image-stream windows (above). Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to the official one: truncated
            normal (std 0.02) linear layers with zero biases, unit LayerNorms; the mask token is truncated normal
            (std 0.02); convolutions keep PyTorch's initialisation.
    """

    def __init__(
        self,
        arch: Union[str, Dict] = 'base',
        patch_size: Sequence[int] = (2, 4, 4),
        in_channels: int = 3,
        window_size: Sequence[int] = (8, 7, 7),
        mlp_ratio: float = 4.,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.,
        attn_drop_rate: float = 0.,
        drop_path_rate: float = 0.3,
        patch_norm: bool = True,
        norm_cfg: dict = dict(type='LN'),
        with_cp: bool = False,
        official_image_windows: bool = True,
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
        ]
    ) -> None:
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        if isinstance(arch, str):
            if arch.lower() not in SwinTransformer3D.arch_zoo:
                raise ValueError(f'arch must be one of {sorted(SwinTransformer3D.arch_zoo)} or a dict, got {arch!r}')
            arch = SwinTransformer3D.arch_zoo[arch.lower()]
        missing = {'embed_dims', 'depths', 'num_heads'} - set(arch)
        if missing:
            raise ValueError(f'the arch dict lacks {sorted(missing)}')
        depths, num_heads = tuple(arch['depths']), tuple(arch['num_heads'])
        if len(depths) != len(num_heads) or len(depths) < 2:
            raise ValueError(f'depths {depths} and num_heads {num_heads} must give the same number (>= 2) of stages')
        patch_size, window_size = tuple(patch_size), tuple(window_size)
        if len(patch_size) != 3 or patch_size[1] != patch_size[2] or len(window_size) != 3:
            raise ValueError(f'patch_size must be (t, k, k) and window_size (Wd, Wh, Ww), got {patch_size} and '
                             f'{window_size}')
        self.embed_dims = arch['embed_dims']
        self.patch_size = patch_size
        self.window_size = window_size
        self.official_image_windows = official_image_windows
        patch_norm_cfg = norm_cfg if patch_norm else None

        self.patch_embed = PatchEmbed3D(patch_size, in_channels, self.embed_dims, norm_cfg=patch_norm_cfg)
        self.patch_embed_2d = PatchEmbed2D(patch_size[1], in_channels, self.embed_dims, norm_cfg=patch_norm_cfg)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        self.pos_drop = nn.Dropout(p=drop_rate)

        drop_paths = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            self.layers.append(
                BasicLayer(
                    embed_dims=self.embed_dims * 2**i,
                    depth=depth,
                    num_heads=heads,
                    window_size=window_size,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    qk_scale=qk_scale,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_paths=drop_paths[sum(depths[:i]):sum(depths[:i + 1])],
                    norm_cfg=norm_cfg,
                    downsample=PatchMerging if i < len(depths) - 1 else None,
                    with_cp=with_cp))
        self.num_features = self.embed_dims * 2**(len(depths) - 1)
        c4, c3 = self.num_features, self.num_features // 2
        self.norm = build_norm_layer(norm_cfg, c4)[1]
        # the decoders, with the official module structure (and so key names: fpn.0.weight, lm_down_st.0.weight, ...)
        self.lm_down = nn.Linear(c4 + c3, c4)
        self.fpn = nn.Sequential(nn.ConvTranspose2d(c4, c4, kernel_size=2, stride=2))
        self.lm_down_st = nn.Sequential(nn.Linear(c4 + c3, c4))
        self.fpn_s = nn.Sequential(nn.ConvTranspose3d(c4, c4, kernel_size=(1, 2, 2), stride=(1, 2, 2)))
        tp = patch_size[0]
        self.fpn_t = nn.Sequential(nn.ConvTranspose3d(c4, c4, kernel_size=(tp, 1, 1), stride=(tp, 1, 1)))

    def init_weights(self) -> None:
        """A truncated normal (std 0.02) mask token, then ``init_cfg`` (which may load a checkpoint over it)."""
        trunc_normal_(self.mask_token, std=.02)
        super().init_weights()

    def _apply_mask(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        """Replace the masked tokens of channel-first ``x`` ``(B, C, *grid)`` by the mask token.

        ``mask`` ``(B, *mask_grid)`` is nearest-upsampled to the token grid (one mask cell covers 4x4 tokens at
        BEVT's sizes).
        """
        if mask is None:
            return x
        if mask.shape[0] != x.shape[0] or mask.dim() != x.dim() - 1:
            raise ValueError(f'mask of shape {tuple(mask.shape)} does not fit tokens of shape {tuple(x.shape)}: '
                             f'expected (B, {", ".join("*" * (x.dim() - 2))}) with B={x.shape[0]}')
        grid = x.shape[2:]
        masked = F.interpolate(mask[:, None].to(x.dtype), size=grid, mode='nearest').bool()
        token = self.mask_token.to(x.dtype).view(1, -1, *([1] * len(grid)))
        return torch.where(masked, token, x)

    def _image_layer(self, layer: BasicLayer, x: torch.Tensor) -> torch.Tensor:
        """One stage on a one-frame clip ``(B, C, 1, H, W)`` with the official image windows; channel-last out."""
        x = x.permute(0, 2, 3, 4, 1)
        batch, _, height, width, channels = x.shape
        side, shift = layer.window_size[1], layer.shift_size[1]
        if height % side or width % side:
            raise ValueError(f'official_image_windows has no padding: the {height}x{width} map of this stage is not '
                             f'a multiple of the window {side} (use 224 px images with window 7, or '
                             f'official_image_windows=False)')
        window = (1, side, side)
        attn_mask = compute_mask(1, height, width, window, (0, shift, shift), x.device)  # used by every block
        for block in layer.blocks:
            block_shift = block.shift_size[1]
            shortcut = x
            y = block.norm1(x)
            if block_shift:
                y = torch.roll(y, shifts=(-block_shift, -block_shift), dims=(2, 3))
            y = block.attn(window_partition(y, window), mask=attn_mask)
            y = window_reverse(y.view(-1, *window, channels), window, batch, 1, height, width)
            if block_shift:
                y = torch.roll(y, shifts=(block_shift, block_shift), dims=(2, 3))
            x = shortcut + block.drop_path(y)
            x = x + block.forward_part2(x)
        return x

    def _encode(self, x: torch.Tensor, image: bool) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run the stages on channel-first tokens; the channel-last outputs of the last two, before downsampling."""
        outputs = []
        for layer in self.layers:
            if image and self.official_image_windows:
                x = self._image_layer(layer, x.contiguous())
            else:
                x = layer(x.contiguous(), do_downsample=False)
            outputs.append(x)
            if layer.downsample is not None:
                x = layer.downsample(x)
            x = x.permute(0, 4, 1, 2, 3)
        return outputs[-2], outputs[-1]

    def _check_grid(self, x3: torch.Tensor, x4: torch.Tensor) -> None:
        if tuple(x3.shape[2:4]) != (2 * x4.shape[2], 2 * x4.shape[3]):
            raise ValueError(f'the decoder needs the stage-3 map to be twice the stage-4 map, got '
                             f'{tuple(x3.shape[2:4])} and {tuple(x4.shape[2:4])}: the input side / 16 must be even '
                             f'(e.g. 224 px)')

    def forward_video(self, video: torch.Tensor, mask: Optional[torch.Tensor] = None) -> VideoFeatures:
        """Encode and decode clips ``(B, C, T, H, W)``, masked where ``mask`` ``(B, T / t, h, w)`` is True."""
        x = self.pos_drop(self._apply_mask(self.patch_embed(video), mask))
        x3, x4 = self._encode(x, image=False)
        self._check_grid(x3, x4)
        up = self.fpn_s(x4.permute(0, 4, 1, 2, 3)).permute(0, 2, 3, 4, 1)
        y = self.lm_down_st(torch.cat([x3, up], dim=-1))
        y = self.norm(self.fpn_t(y.permute(0, 4, 1, 2, 3)).permute(0, 2, 3, 4, 1))
        return VideoFeatures(
            patch_tokens=y.flatten(2, 3),
            stage_outputs=(x3.permute(0, 4, 1, 2, 3), x4.permute(0, 4, 1, 2, 3)),
            masks=mask,
            source=type(self).__name__)

    def forward_image(self, images: torch.Tensor, mask: Optional[torch.Tensor] = None) -> VideoFeatures:
        """Encode and decode images ``(B, C, H, W)``, masked where ``mask`` ``(B, h, w)`` is True."""
        x = self.pos_drop(self._apply_mask(self.patch_embed_2d(images), mask))
        x3, x4 = self._encode(x.unsqueeze(2), image=True)
        self._check_grid(x3, x4)
        up = self.fpn(x4[:, 0].permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        y = self.norm(self.lm_down(torch.cat([x3[:, 0], up], dim=-1)))
        return VideoFeatures(
            patch_tokens=y.flatten(1, 2)[:, None],
            stage_outputs=(x3.permute(0, 4, 1, 2, 3), x4.permute(0, 4, 1, 2, 3)),
            masks=None if mask is None else mask[:, None],
            source=type(self).__name__)

    def forward(self, inputs: torch.Tensor, mask: Optional[torch.Tensor] = None) -> VideoFeatures:
        """Run the video stream on ``(B, C, T, H, W)`` clips or the image stream on ``(B, C, H, W)`` images.

        Args:
            inputs (torch.Tensor): Normalised clips or images.
            mask (torch.Tensor, optional): Bool, True where masked: ``(B, T / t, h, w)`` for clips (BEVT: tubes on
                an 8x14x14 grid), ``(B, h, w)`` for images (14x14 block-wise masks). Defaults to None.

        Returns:
            VideoFeatures: ``patch_tokens``, ``stage_outputs`` and ``masks`` (see the class).
        """
        if inputs.dim() == 5:
            return self.forward_video(inputs, mask)
        if inputs.dim() == 4:
            return self.forward_image(inputs, mask)
        raise ValueError(f'expected clips (B, C, T, H, W) or images (B, C, H, W), got shape {tuple(inputs.shape)}')
