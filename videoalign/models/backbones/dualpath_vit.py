"""DualPath's backbone (``VisionTransformer`` with ``adapter='w-adapter'`` in ``park-jungin/DualPath``,
``CLIP_custom/clip/model.py``), with the input construction of its ``engine_finetune_clip.py`` moved inside."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures
from ..layers.grid_frameset import grid_temporal_encoding, make_grid_frameset, sample_sparse_frames
from .clip_vit import CLIPViT, resize_pos_embed


@MODELS.register_module()
class DualPathViT(CLIPViT):
    """CLIP's ViT run on DualPath's two views of a clip: ``Tt`` grid-like framesets and ``Ts`` sparse frames.

    From a clip ``(B, C, T, H, W)`` with ``T = Tt * grid_width**2`` (16 or 32 frames for ``Tt`` = 1 or 2):

    1. ``Tt`` grid images, each tiling ``grid_width**2`` consecutive frames row-major and resized back to
       ``(H, W)`` (:func:`~videoalign.models.layers.make_grid_frameset`), and ``Ts`` frames at stride ``T / Ts``
       (:func:`~videoalign.models.layers.sample_sparse_frames`), in that order (grids first), ``Tt + Ts`` images per
       video;
    2. patch embedding and CLS token as CLIP; grid tokens get ``x + temporal_encoding + spatial_positional_embedding``
       (a fixed frame-index sinusoid, :func:`~videoalign.models.layers.grid_temporal_encoding`, and a new learnable
       embedding), frame tokens get CLIP's ``positional_embedding``; then ``ln_pre``;
    3. :class:`DualPathBlock` blocks (``num_grids`` filled in), whose temporal and spatial paths share the frozen CLIP
       weights;
    4. ``ln_post(CLS) @ proj`` of every image: the ``frame_embeds`` ``(B, Tt + Ts, D)`` of the returned
       :class:`~videoalign.structures.VideoFeatures`.

    ``temporal_encoding`` is a non-persistent buffer (not in the state dict: the official model computes it in every
    forward). The official code builds the images in its training loop, not in the model; the result is the same.
    Keys are the official ``visual.*`` keys without ``visual.`` (the head excepted), so converted official checkpoints
    (:func:`~videoalign.models.converters.convert_dualpath`) and CLIP weights load by name.

    Args:
        arch (str | dict): A CLIP size of :mod:`videoalign.models.clip.archs`. Defaults to ``'ViT-B/16'``.
        num_frames (int): Frames per input clip ``T``, a multiple of ``grid_width**2`` and of
            ``num_sparse_frames``. Defaults to 16.
        grid_width (int): Frames per row and per column of a grid image. Defaults to 4.
        num_sparse_frames (int): Frames of the spatial path ``Ts`` (hard-coded 8 in the official code).
            Defaults to 8.
        block_cfg (dict): Config of the block; ``num_grids`` (and ``width``, ``num_heads``, ``num_frames`` = images
            per video, ``drop_path`` = 0) are filled in. Defaults to ``dict(type='DualPathBlock')``.
        with_cp (bool): Gradient checkpointing of each block in training. Defaults to False.
        antialias (bool): Antialias the resizes of the grid images and of the frame-index map; False reproduces the
            torchvision of the official code (see :mod:`videoalign.models.layers.grid_frameset`). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config, e.g.
            ``dict(type='CLIPPretrained', checkpoint='ViT-B-16.pt', prefix='visual.')``. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'ViT-B/16',
                 num_frames: int = 16,
                 grid_width: int = 4,
                 num_sparse_frames: int = 8,
                 block_cfg: dict = dict(type='DualPathBlock'),
                 with_cp: bool = False,
                 antialias: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        per_grid = grid_width**2
        if grid_width < 1 or num_frames < per_grid or num_frames % per_grid != 0:
            raise ValueError(f'num_frames must be a positive multiple of grid_width**2={per_grid}, got '
                             f'num_frames={num_frames}')
        if num_sparse_frames < 1 or num_frames % num_sparse_frames != 0:
            raise ValueError(f'num_frames={num_frames} must be a multiple of num_sparse_frames={num_sparse_frames}')
        num_grids = num_frames // per_grid
        super().__init__(
            arch=arch,
            num_frames=num_grids + num_sparse_frames,  # what each block sees per video
            block_cfg=dict(block_cfg, num_grids=num_grids),
            drop_path_rate=0.,
            with_cp=with_cp,
            use_proj=True,
            use_temporal_embedding=False,
            init_cfg=init_cfg)
        self.num_frames = num_frames  # frames per input clip; the blocks see num_images per video
        # make_images fixes the clip length, hence the images per video: no further check in CLIPViT.forward
        self.fixed_num_frames = False
        self.grid_width = grid_width
        self.num_grids = num_grids
        self.num_sparse_frames = num_sparse_frames
        self.num_images = num_grids + num_sparse_frames
        self.antialias = antialias
        num_tokens = self.grid_size[0] * self.grid_size[1] + 1
        self.spatial_positional_embedding = nn.Parameter(self.width**-0.5 * torch.randn(num_tokens, self.width))
        self.register_buffer('temporal_encoding', self._temporal_encoding(self.grid_size), persistent=False)

    def _temporal_encoding(self, grid: Tuple[int, int]) -> torch.Tensor:
        """The fixed code of the grid images' tokens ``(num_grids, 1 + h*w, width)`` for a square patch grid."""
        if grid[0] != grid[1]:
            raise ValueError(f'the frame-index map of DualPath needs a square patch grid, got {tuple(grid)}')
        return grid_temporal_encoding(grid[0], self.width, self.num_grids, self.grid_width, antialias=self.antialias)

    def _init_clip_weights(self) -> None:
        """CLIP's random initialisation, and ``spatial_positional_embedding`` as ``width**-0.5 * randn``."""
        super()._init_clip_weights()
        nn.init.normal_(self.spatial_positional_embedding, std=self.width**-0.5)

    def embed_tokens(self, frames: torch.Tensor, num_frames: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """Patchify the images, add the CLS token and each path's position embeddings; then ``ln_pre``.

        Args:
            frames (torch.Tensor): Images ``(B*(Tt+Ts), C, H, W)``, the grids first in each video.
            num_frames (int): Images per video ``Tt + Ts``.

        Returns:
            tuple[torch.Tensor, tuple[int, int]]: Tokens ``(B*(Tt+Ts), 1 + h*w, D)`` and the patch grid ``(h, w)``.
        """
        x = self.conv1(frames)
        grid = tuple(x.shape[-2:])
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)
        num_tokens, dim = x.shape[1:]
        x = x.view(-1, num_frames, num_tokens, dim)
        temporal = self.temporal_encoding if grid == self.grid_size else self._temporal_encoding(grid).to(x.device)
        spatial = resize_pos_embed(self.spatial_positional_embedding, self.grid_size, grid)
        # as the official code: added in float32 (type promotion under autocast), then cast back
        grids = (x[:, :self.num_grids] + temporal + spatial).to(x.dtype)
        sparse = x[:, self.num_grids:] + resize_pos_embed(self.positional_embedding, self.grid_size, grid).to(x.dtype)
        x = torch.cat([grids, sparse], dim=1).view(-1, num_tokens, dim)
        return self.ln_pre(x), grid

    def forward_blocks(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Run the blocks on the tokens ``(L, B*(Tt+Ts), D)``, with checkpointing if ``with_cp`` in training.

        The tokens of the two paths are split once before the first block and joined after the last
        (:meth:`DualPathBlock.forward_paths`), instead of in every block.
        """
        blocks = self.transformer.resblocks
        x_t, x_s = blocks[0].split_paths(x, num_frames)
        for block in blocks:
            x_t, x_s = self.run_block(block.forward_paths, x_t, x_s)
        return blocks[-1].merge_paths(x_t, x_s)

    def make_images(self, x: torch.Tensor) -> torch.Tensor:
        """DualPath's images of a clip ``(B, C, T, H, W)``: ``(B, C, Tt + Ts, H, W)``, the grids first."""
        if x.dim() != 5:
            raise ValueError(f'DualPathViT takes clips of shape (B, C, T, H, W), got shape {tuple(x.shape)}')
        if x.shape[2] != self.num_frames:
            raise ValueError(f'this DualPathViT is built for clips of num_frames={self.num_frames} frames '
                             f'({self.num_grids} grid(s) of {self.grid_width**2}), got {x.shape[2]} frames')
        grids = make_grid_frameset(x, self.grid_width, antialias=self.antialias)
        return torch.cat([grids, sample_sparse_frames(x, self.num_sparse_frames)], dim=2)

    def forward(self, x: torch.Tensor) -> VideoFeatures:
        """Encode a clip.

        Args:
            x (torch.Tensor): Frames ``(B, C, T, H, W)`` with ``T = num_frames``.

        Returns:
            VideoFeatures: ``frame_embeds``, ``ln_post(CLS) @ proj`` of every image, ``(B, Tt + Ts, embed_dims)``, the
            grids first, and ``patch_tokens``, the last block's raw patch tokens of every image,
            ``(B, Tt + Ts, h*w, width)``.
        """
        return super().forward(self.make_images(x))
