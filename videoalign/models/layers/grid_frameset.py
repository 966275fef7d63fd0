"""DualPath's two views of a clip, as pure functions: grid-like framesets, sparse frames and the grid position code.

DualPath (``park-jungin/DualPath``, ``engine_finetune_clip.py`` and ``CLIP_custom/clip/model.py``
``TemporalPositionalEmbedding``) feeds an image ViT two kinds of images:

- a **grid-like frameset**: ``grid_width**2`` consecutive frames tiled row-major into one image (frame ``k`` of the
  group at row ``k // grid_width``, column ``k % grid_width``), resized back to the frame size;
- ``num`` **sparse frames** taken at stride ``T / num`` from frame 0.

Grid images get a fixed sinusoid of a per-token *frame index*: the index map of the tiling, resized to the patch grid.

Resizing: both resizes are bilinear without antialiasing (``antialias=False``) by default. The official code calls
``torchvision.transforms.Resize`` on tensors without setting ``antialias``, whose default for tensors changed from
no antialiasing (torchvision <= 0.16) to antialiasing (>= 0.17). The release was run under Python 3.7 (its
``__pycache__`` holds ``cpython-37`` files), hence with torchvision <= 0.14, which did not antialias tensors.
``antialias=True`` gives what the same code does under a recent torchvision.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = ['make_grid_frameset', 'sample_sparse_frames', 'grid_frame_index_map', 'grid_temporal_encoding']


def _resize(images: torch.Tensor, size: Sequence[int], antialias: bool) -> torch.Tensor:
    """Bilinear resize of ``(N, C, H, W)`` to ``size``, as torchvision's tensor ``Resize`` (``align_corners=False``)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size=tuple(size), mode='bilinear', align_corners=False, antialias=antialias)


def make_grid_frameset(frames: torch.Tensor,
                       grid_width: int = 4,
                       out_size: Optional[Sequence[int]] = None,
                       antialias: bool = False) -> torch.Tensor:
    """Tile each group of ``grid_width**2`` consecutive frames into one image and resize it.

    Args:
        frames (torch.Tensor): A floating-point clip ``(B, C, T, H, W)`` with ``T = k * grid_width**2``.
        grid_width (int): Frames per row and per column of a grid. Defaults to 4.
        out_size (Sequence[int], optional): ``(height, width)`` of the grid images. None means ``(H, W)`` (the
            official code resizes to ``(H, H)``: the same for square frames). ``(grid_width * H, grid_width * W)``
            keeps the tiled image as it is. Defaults to None.
        antialias (bool): Antialias the (down-sampling) bilinear resize. Defaults to False (see the module notes).

    Returns:
        torch.Tensor: ``(B, C, k, out_height, out_width)``: grid ``g`` holds frames ``g * grid_width**2`` to
        ``(g + 1) * grid_width**2 - 1``, frame ``j`` of them at row ``j // grid_width``, column ``j % grid_width``.
    """
    if frames.dim() != 5:
        raise ValueError(f'frames must be (B, C, T, H, W), got shape {tuple(frames.shape)}')
    if not frames.is_floating_point():
        raise TypeError(f'frames must be a floating-point tensor to be resized, got {frames.dtype}')
    if grid_width < 1:
        raise ValueError(f'grid_width must be positive, got {grid_width}')
    batch, channels, num_frames, height, width = frames.shape
    per_grid = grid_width**2
    if num_frames == 0 or num_frames % per_grid != 0:
        raise ValueError(f'a grid holds grid_width**2={per_grid} frames, so T must be a positive multiple of '
                         f'{per_grid}; got T={num_frames}')
    num_grids = num_frames // per_grid
    out_size = (height, width) if out_size is None else tuple(out_size)
    # (B, C, k, row, col, H, W) -> (B, C, k, row, H, col, W) -> (B*C*k, 1, row*H, col*W)
    grids = frames.reshape(batch, channels, num_grids, grid_width, grid_width, height, width)
    grids = grids.permute(0, 1, 2, 3, 5, 4, 6).reshape(-1, 1, grid_width * height, grid_width * width)
    grids = _resize(grids, out_size, antialias)
    return grids.reshape(batch, channels, num_grids, *out_size)


def sample_sparse_frames(frames: torch.Tensor, num: int = 8) -> torch.Tensor:
    """Take ``num`` frames at stride ``T / num``, starting with frame 0 (DualPath's spatial-path input).

    Args:
        frames (torch.Tensor): A clip ``(B, C, T, H, W)`` with ``T`` a multiple of ``num``.
        num (int): Frames to keep. Defaults to 8 (hard-coded in the official code).

    Returns:
        torch.Tensor: ``(B, C, num, H, W)``, frames ``0, s, 2s, ...`` with ``s = T / num``.
    """
    if frames.dim() != 5:
        raise ValueError(f'frames must be (B, C, T, H, W), got shape {tuple(frames.shape)}')
    num_frames = frames.shape[2]
    if num < 1 or num_frames % num != 0:
        raise ValueError(f'T must be a multiple of num={num} to stride evenly, got T={num_frames}')
    return frames[:, :, ::num_frames // num]


def grid_frame_index_map(num_grids: int = 1, grid_width: int = 4, map_size: int = 16) -> torch.Tensor:
    """The frame index (from 1) of every cell of a ``map_size x map_size`` map of each grid image.

    Frame ``j`` (0-based) of grid ``g`` fills the block at block-row ``j // grid_width``, block-column
    ``j % grid_width`` with the value ``g * grid_width**2 + j + 1``: the first grid holds 1..16, the second 17..32
    (for ``grid_width=4``). The official map is 16 x 16 (blocks of 4 x 4 cells).

    Args:
        num_grids (int): Grid images ``Tt``. Defaults to 1.
        grid_width (int): Frames per row and per column of a grid. Defaults to 4.
        map_size (int): Side of the map, a multiple of ``grid_width``. Defaults to 16.

    Returns:
        torch.Tensor: float32 ``(num_grids, map_size, map_size)``.
    """
    if num_grids < 1 or grid_width < 1 or map_size % grid_width != 0:
        raise ValueError(f'need num_grids >= 1, grid_width >= 1 and map_size a multiple of grid_width; got '
                         f'num_grids={num_grids}, grid_width={grid_width}, map_size={map_size}')
    cell = map_size // grid_width
    index = torch.arange(1, num_grids * grid_width**2 + 1, dtype=torch.float32)
    blocks = index.view(num_grids, grid_width, grid_width)
    return blocks.repeat_interleave(cell, dim=1).repeat_interleave(cell, dim=2)


def grid_temporal_encoding(num_tokens_side: int,
                           width: int,
                           num_grids: int = 1,
                           grid_width: int = 4,
                           map_size: int = 16,
                           antialias: bool = False) -> torch.Tensor:
    """DualPath's fixed position code of the tokens of grid images (``TemporalPositionalEmbedding``).

    The 16 x 16 frame-index map (:func:`grid_frame_index_map`) is resized bilinearly to the patch grid (blending the
    indices at tile borders), flattened, prefixed with index 0 for the CLS token, multiplied by
    ``inv_freq = 1 / 10000 ** (arange(0, width, 2) / width)``, and turned into interleaved
    ``[sin, cos, sin, cos, ...]`` channels.

    Args:
        num_tokens_side (int): Side of the patch grid (14 for ViT-B/16 at 224, 16 for ViT-L/14 at 224).
        width (int): Token width ``D`` (even).
        num_grids (int): Grid images ``Tt``. Defaults to 1.
        grid_width (int): Frames per row and per column of a grid. Defaults to 4.
        map_size (int): Side of the index map before resizing. Defaults to 16.
        antialias (bool): Antialias the resize of the map. Defaults to False (see the module notes).

    Returns:
        torch.Tensor: float32 ``(num_grids, 1 + num_tokens_side**2, width)``.
    """
    if width % 2 != 0:
        raise ValueError(f'width must be even for interleaved sin/cos channels, got {width}')
    index = grid_frame_index_map(num_grids, grid_width, map_size).unsqueeze(1)
    index = _resize(index, (num_tokens_side, num_tokens_side), antialias).flatten(1)
    index = torch.cat([index.new_zeros(num_grids, 1), index], dim=1)
    inv_freq = 1.0 / (10000**(torch.arange(0, width, 2, dtype=torch.float32) / width))
    angles = index.unsqueeze(-1) * inv_freq
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)
