"""CLIP's ViT image encoder applied to every frame of a clip, with pluggable (cross-frame) blocks."""
import copy
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleDict, ModuleList
from torch.utils.checkpoint import checkpoint

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures
from ..clip.archs import get_clip_arch
from ..clip.layers import LayerNorm
from ..clip.weights import CLIPPretrainedInit
from . import clip_blocks  # noqa: F401  (registers the block types)

__all__ = ['CLIPViT', 'resize_pos_embed']

_CLIP_PRETRAINED_TYPES = ('CLIPPretrained', 'videoalign.CLIPPretrained', CLIPPretrainedInit)


def resize_pos_embed(pos_embed: torch.Tensor,
                     src_grid: Sequence[int],
                     dst_grid: Sequence[int],
                     num_extra_tokens: int = 1) -> torch.Tensor:
    """Resize a ViT positional embedding to another patch grid, as open_clip does (bicubic, antialiased).

    Args:
        pos_embed (torch.Tensor): Shape ``(num_extra_tokens + h * w, D)``, the extra tokens (CLS) first.
        src_grid (Sequence[int]): The grid ``(h, w)`` of ``pos_embed``.
        dst_grid (Sequence[int]): The grid to resize to.
        num_extra_tokens (int): Leading tokens kept as they are. Defaults to 1.

    Returns:
        torch.Tensor: Shape ``(num_extra_tokens + dst_h * dst_w, D)``, in the dtype of ``pos_embed``.
    """
    src_grid, dst_grid = tuple(src_grid), tuple(dst_grid)
    if src_grid == dst_grid:
        return pos_embed
    extra, grid = pos_embed[:num_extra_tokens], pos_embed[num_extra_tokens:]
    if grid.shape[0] != src_grid[0] * src_grid[1]:
        raise ValueError(f'a positional embedding of {grid.shape[0]} grid tokens does not fit grid {src_grid}')
    dim = grid.shape[-1]
    grid = grid.float().reshape(1, *src_grid, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=dst_grid, mode='bicubic', antialias=True, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(-1, dim).to(pos_embed.dtype)
    return torch.cat([extra, grid], dim=0)


@MODELS.register_module()
class CLIPViT(BaseModule):
    """The CLIP ViT image encoder run on each frame of a clip ``(B, C, T, H, W)``.

    It returns :class:`~videoalign.structures.VideoFeatures` with ``frame_embeds`` (the per-frame CLS embeddings) and
    ``patch_tokens`` (the last block's patch tokens); necks and heads read the fields they need.

    Keys are OpenAI CLIP's visual keys without ``visual.`` (``conv1``, ``class_embedding``, ``positional_embedding``,
    ``ln_pre``, ``transformer.resblocks.{i}.*``, ``ln_post``, ``proj``), so CLIP weights and official X-CLIP style
    checkpoints load by name. The blocks are built from ``block_cfg`` (``CLIPBlock``: per-frame CLIP;
    ``XCLIPBlock``: X-CLIP's cross-frame communication); they see tokens sequence-first ``(L, B*T, D)`` with the
    frames of one video contiguous, and are told T.

    A positional embedding of another grid is resized (bicubic) both when the input resolution differs from
    ``image_size`` and when a checkpoint of another grid is loaded.

    Args:
        arch (str | dict): A CLIP size of :mod:`videoalign.models.clip.archs` (``'ViT-B/16'``, open_clip's
            ``'ViT-B-16'``, ``'tiny'``, ...) or a dict with ``embed_dim`` and ``vision``. Defaults to ``'ViT-B/16'``.
        num_frames (int): Frames per clip. Blocks whose parameters depend on T (and the temporal embedding) need
            inputs of exactly this many frames; others take T from the input. Defaults to 8.
        block_cfg (dict): Config of the block type; ``width``, ``num_heads``, ``num_frames`` and ``drop_path`` are
            filled in. Defaults to ``dict(type='CLIPBlock')``.
        drop_path_rate (float): Stochastic depth rate, linearly spaced from 0 (first block) to this (last block).
            Defaults to 0.
        with_cp (bool): Gradient checkpointing of each block in training, trading compute for memory.
            Defaults to False.
        use_proj (bool): Keep CLIP's ``proj`` (width -> embed_dim) on the CLS token. AIM drops it.
            Defaults to True.
        use_temporal_embedding (bool): Add a learnable, zero-initialised ``temporal_embedding`` ``(1, T, width)`` to
            every token of each frame before ``ln_pre`` (AIM). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config, e.g.
            ``dict(type='CLIPPretrained', checkpoint='ViT-B-16.pt', prefix='visual.')``. Without a pretrained entry
            the weights are initialised as CLIP's. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'ViT-B/16',
                 num_frames: int = 8,
                 block_cfg: dict = dict(type='CLIPBlock'),
                 drop_path_rate: float = 0.,
                 with_cp: bool = False,
                 use_proj: bool = True,
                 use_temporal_embedding: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        arch = get_clip_arch(arch)
        if 'vision' not in arch:
            raise KeyError('the CLIP arch of CLIPViT needs a "vision" section')
        vision = arch['vision']
        self.arch = arch
        self.num_frames = num_frames
        self.image_size = vision['image_size']
        self.patch_size = vision['patch_size']
        self.grid_size = (self.image_size // self.patch_size, ) * 2
        self.width = vision['width']
        self.num_layers = vision['layers']
        self.num_heads = vision['heads']
        self.with_cp = with_cp
        self.embed_dims = arch['embed_dim'] if use_proj else self.width

        scale = self.width**-0.5
        self.conv1 = nn.Conv2d(3, self.width, kernel_size=self.patch_size, stride=self.patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(self.width))
        num_patches = self.grid_size[0] * self.grid_size[1]
        self.positional_embedding = nn.Parameter(scale * torch.randn(num_patches + 1, self.width))
        if use_temporal_embedding:
            self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, self.width))
        else:
            self.temporal_embedding = None
        self.ln_pre = LayerNorm(self.width)

        dpr = [drop_path_rate * i / max(self.num_layers - 1, 1) for i in range(self.num_layers)]  # as torch.linspace
        resblocks = [
            MODELS.build(
                dict(block_cfg, width=self.width, num_heads=self.num_heads, num_frames=num_frames, drop_path=dpr[i]))
            for i in range(self.num_layers)
        ]
        # mmengine containers, so that BaseModule.init_weights reaches each block's own init_weights.
        self.transformer = ModuleDict(dict(resblocks=ModuleList(resblocks)))
        self.fixed_num_frames = use_temporal_embedding or any(
            getattr(block, 'fixed_num_frames', False) for block in resblocks)

        self.ln_post = LayerNorm(self.width)
        self.proj = nn.Parameter(scale * torch.randn(self.width, arch['embed_dim'])) if use_proj else None
        self.register_load_state_dict_pre_hook(type(self)._prepare_pos_embed)

    def _prepare_pos_embed(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Load-state-dict pre-hook: resize a checkpoint's ``positional_embedding`` of another grid to this one."""
        name = prefix + 'positional_embedding'
        if name not in state_dict:
            return
        ckpt_pos_embed = state_dict[name]
        if ckpt_pos_embed.shape == self.positional_embedding.shape:
            return
        num_grid_tokens = ckpt_pos_embed.shape[0] - 1
        side = int(round(num_grid_tokens**0.5))
        if side * side != num_grid_tokens or ckpt_pos_embed.shape[-1] != self.width:
            return  # not a square grid of this width: let load_state_dict report the mismatch
        print_log(
            f'resize {name} from {tuple(ckpt_pos_embed.shape)} (grid {side}x{side}) to '
            f'{tuple(self.positional_embedding.shape)} (grid {self.grid_size[0]}x{self.grid_size[1]})',
            logger='current')
        state_dict[name] = resize_pos_embed(ckpt_pos_embed, (side, side), self.grid_size)

    def init_weights(self) -> None:
        """Initialise as CLIP, then run ``init_cfg``; ``CLIPPretrained`` entries are applied last.

        Without a pretrained entry, ``class_embedding``, ``positional_embedding`` and ``proj`` are drawn as
        ``width**-0.5 * randn`` and each block's ``attn``/``mlp`` as open_clip's ``init_parameters`` (other block
        modules, such as X-CLIP's ``message_*``, keep their own initialisation). Blocks' own ``init_weights`` run
        next, and CLIP weights are loaded after them, so a block cannot overwrite them.
        """
        if self.is_init:
            super().init_weights()  # mmengine warns about the repeated call
            return
        init_cfgs = self.init_cfg or []
        init_cfgs = [init_cfgs] if isinstance(init_cfgs, dict) else list(init_cfgs)
        clip_cfgs = [cfg for cfg in init_cfgs if cfg['type'] in _CLIP_PRETRAINED_TYPES]
        other_cfgs = [cfg for cfg in init_cfgs if cfg['type'] not in _CLIP_PRETRAINED_TYPES]
        if not clip_cfgs and not any(cfg['type'] == 'Pretrained' for cfg in other_cfgs):
            self._init_clip_weights()
        original_init_cfg = self.init_cfg
        self.init_cfg = other_cfgs or None
        try:
            super().init_weights()
        finally:
            self.init_cfg = original_init_cfg
        for cfg in clip_cfgs:
            cfg = copy.deepcopy(dict(cfg))
            cfg.pop('type')
            CLIPPretrainedInit(**cfg)(self)

    def _init_clip_weights(self) -> None:
        """CLIP's random initialisation of the embeddings, the projection and the blocks' attention and MLP."""
        scale = self.width**-0.5
        proj_std = scale * (2 * self.num_layers)**-0.5
        fc_std = (2 * self.width)**-0.5
        nn.init.normal_(self.class_embedding, std=scale)
        nn.init.normal_(self.positional_embedding, std=scale)
        if self.proj is not None:
            nn.init.normal_(self.proj, std=scale)
        if self.temporal_embedding is not None:
            nn.init.zeros_(self.temporal_embedding)
        for block in self.transformer.resblocks:
            attn, mlp = getattr(block, 'attn', None), getattr(block, 'mlp', None)
            if isinstance(attn, nn.MultiheadAttention) and attn.in_proj_weight is not None:
                nn.init.normal_(attn.in_proj_weight, std=scale)
                nn.init.normal_(attn.out_proj.weight, std=proj_std)
            if mlp is not None and hasattr(mlp, 'c_fc') and hasattr(mlp, 'c_proj'):
                nn.init.normal_(mlp.c_fc.weight, std=fc_std)
                nn.init.normal_(mlp.c_proj.weight, std=proj_std)

    def embed_tokens(self, frames: torch.Tensor, num_frames: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """Patchify the frames and add the CLS token and the position (and temporal) embeddings; then ``ln_pre``.

        Args:
            frames (torch.Tensor): Shape ``(B*T, C, H, W)``, the frames of a video contiguous.
            num_frames (int): Frames per video ``T``.

        Returns:
            tuple[torch.Tensor, tuple[int, int]]: Tokens ``(B*T, 1 + h*w, D)`` and the patch grid ``(h, w)``.
        """
        x = self.conv1(frames)
        grid = tuple(x.shape[-2:])
        x = x.flatten(2).transpose(1, 2)
        cls_token = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls_token, x], dim=1)
        x = x + resize_pos_embed(self.positional_embedding, self.grid_size, grid).to(x.dtype)
        if self.temporal_embedding is not None:
            num_tokens, dim = x.shape[1:]
            x = x.view(-1, num_frames, num_tokens, dim) + self.temporal_embedding.to(x.dtype).unsqueeze(2)
            x = x.view(-1, num_tokens, dim)
        return self.ln_pre(x), grid

    def run_block(self, fn: Callable, *args):
        """``fn(*args)`` (a block, or a method of one), under activation checkpointing if ``with_cp`` in training."""
        if self.with_cp and self.training:
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def forward_blocks(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Run the blocks on sequence-first tokens ``(L, B*T, D)``, with checkpointing if ``with_cp`` in training."""
        for block in self.transformer.resblocks:
            x = self.run_block(block, x, num_frames)
        return x

    def forward(self, x: torch.Tensor) -> VideoFeatures:
        """Encode a clip.

        Args:
            x (torch.Tensor): Frames ``(B, C, T, H, W)``.

        Returns:
            VideoFeatures: ``frame_embeds``, the CLS token of each frame after ``ln_post`` and ``proj``,
            ``(B, T, embed_dims)``; ``patch_tokens``, the raw patch tokens of the last block without ``ln_post``
            (a view of the block output), ``(B, T, h*w, width)``.
        """
        if x.dim() != 5:
            raise ValueError(f'CLIPViT takes clips of shape (B, C, T, H, W), got shape {tuple(x.shape)}')
        batch, channels, num_frames, height, width = x.shape
        if self.fixed_num_frames and num_frames != self.num_frames:
            raise ValueError(f'this CLIPViT has parameters for num_frames={self.num_frames} but got clips of '
                             f'{num_frames} frames')
        frames = x.transpose(1, 2).reshape(batch * num_frames, channels, height, width)
        tokens, grid = self.embed_tokens(frames, num_frames)
        # one copy into the blocks' layout: on a transposed view every LayerNorm would copy its input
        tokens = self.forward_blocks(tokens.transpose(0, 1).contiguous(), num_frames)  # (L, B*T, D)
        cls = self.ln_post(tokens[0])
        if self.proj is not None:
            cls = cls @ self.proj
        cls = cls.view(batch, num_frames, -1)
        patches = tokens[1:].transpose(0, 1).unflatten(0, (batch, num_frames))  # a view, copied only where read
        return VideoFeatures(frame_embeds=cls, patch_tokens=patches, source=type(self).__name__)
