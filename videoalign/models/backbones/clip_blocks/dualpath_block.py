"""DualPath's adapted block (``ResidualAttentionBlock`` with ``adapter='w-adapter'`` in ``park-jungin/DualPath``,
``CLIP_custom/clip/model.py``)."""
from typing import Optional, Tuple, Union

import torch

from videoalign.registry import MODELS
from ...layers.adapter import Adapter
from .clip_block import CLIPBlock


@MODELS.register_module()
class DualPathBlock(CLIPBlock):
    """A frozen CLIP block shared by DualPath's temporal path (grid images) and spatial path (sparse frames).

    The tokens ``x`` of shape ``(L, B*T, D)`` hold ``T = num_grids + Ts`` images per video: the first ``num_grids``
    are grid-like framesets (temporal path), the other ``Ts`` are frames (spatial path). Both paths use this block's
    ``ln_1``, ``attn``, ``ln_2`` and ``mlp``; each image attends only within itself. The forward is the official one:

    - temporal path, serial adapters (``t_adapter_attn_b`` replaces its input: it has no skip)::

          x_t = t_adapter_attn(attn(t_adapter_attn_b(ln_1(x_t)))) + x_t
          x_t = t_adapter_mlp(mlp(ln_2(x_t))) + x_t

    - spatial path, parallel adapters::

          x_s = attn(ln_1(x_s)) + s_adapter_attn(ln_1(x_s)) + x_s
          x_s = mlp(ln_2(x_s)) + s_adapter_mlp(ln_2(x_s)) + x_s

    There is no drop path. All adapters are ``Adapter(width, 0.25, dropout=0.1, init_mode='lora')`` with a zero
    ``up_proj``, so at initialisation the spatial path is the plain CLIP block, and the temporal path leaves its
    tokens unchanged (the input of its attention is zero). Adapter names are the official ones and are created in
    the official order (``t_adapter_attn_b``, ``s_adapter_attn``, ``t_adapter_attn``, ``s_adapter_mlp``,
    ``t_adapter_mlp``), each with ``down_proj``/``up_proj``.

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads.
        num_frames (int): Images per video ``T = num_grids + Ts``, used when ``forward`` is not told. Defaults to 9.
        drop_path (float): Must be 0: DualPath has no stochastic depth. Defaults to 0.
        mlp_ratio (float): Hidden width of the MLP over ``width``. Defaults to 4.0.
        num_grids (int): Grid images ``Tt`` at the start of each video's images. Defaults to 1.
        adapter_ratio (float): Adapter bottleneck width over ``width``. Defaults to 0.25.
        adapter_dropout (float): Dropout inside the adapters. Defaults to 0.1.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 width: int,
                 num_heads: int,
                 num_frames: int = 9,
                 drop_path: float = 0.,
                 mlp_ratio: float = 4.0,
                 num_grids: int = 1,
                 adapter_ratio: float = 0.25,
                 adapter_dropout: float = 0.1,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if drop_path != 0:
            raise ValueError(f'DualPathBlock has no drop path (the official block has none), got drop_path={drop_path}')
        if num_grids < 1:
            raise ValueError(f'num_grids must be at least 1, got {num_grids}')
        super().__init__(width, num_heads, num_frames=num_frames, drop_path=0., mlp_ratio=mlp_ratio, init_cfg=init_cfg)
        self.num_grids = num_grids
        # created in the official order, so that state dicts list them alike
        self.t_adapter_attn_b = Adapter(width, adapter_ratio, dropout=adapter_dropout, init_mode='lora')
        self.s_adapter_attn = Adapter(width, adapter_ratio, dropout=adapter_dropout, init_mode='lora')
        self.t_adapter_attn = Adapter(width, adapter_ratio, dropout=adapter_dropout, init_mode='lora')
        self.s_adapter_mlp = Adapter(width, adapter_ratio, dropout=adapter_dropout, init_mode='lora')
        self.t_adapter_mlp = Adapter(width, adapter_ratio, dropout=adapter_dropout, init_mode='lora')

    def temporal_path(self, x: torch.Tensor) -> torch.Tensor:
        """The block on grid-image tokens ``(L, N, D)``, with serial adapters."""
        x = self.t_adapter_attn(self.attention(self.t_adapter_attn_b(self.ln_1(x)))) + x
        return self.t_adapter_mlp(self.mlp(self.ln_2(x))) + x

    def spatial_path(self, x: torch.Tensor) -> torch.Tensor:
        """The block on frame tokens ``(L, N, D)``, with parallel adapters."""
        normed = self.ln_1(x)
        x = self.attention(normed) + self.s_adapter_attn(normed) + x
        normed = self.ln_2(x)
        return self.mlp(normed) + self.s_adapter_mlp(normed) + x

    def split_paths(self, x: torch.Tensor, num_frames: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Split the tokens ``(L, B*T, D)`` of all images into those of the two paths.

        Args:
            x (torch.Tensor): Tokens, CLS first, grids first in each video's ``T`` images.
            num_frames (int, optional): Images per video ``T``. Defaults to the ``num_frames`` given at construction.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: The grid tokens ``(L, B*Tt, D)`` and the frame tokens
            ``(L, B*Ts, D)``, each a contiguous copy.
        """
        num_frames = num_frames or self.num_frames
        num_tokens, bt, dim = x.shape
        if num_frames <= self.num_grids or bt % num_frames != 0:
            raise ValueError(f'{bt} images do not split into videos of num_frames={num_frames} images with '
                             f'num_grids={self.num_grids} grids and at least one frame')
        x = x.view(num_tokens, bt // num_frames, num_frames, dim)
        grids, frames = x.split([self.num_grids, num_frames - self.num_grids], dim=2)
        return grids.reshape(num_tokens, -1, dim), frames.reshape(num_tokens, -1, dim)

    def merge_paths(self, x_t: torch.Tensor, x_s: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`split_paths`: the tokens ``(L, B*T, D)`` of all images, grids first per video."""
        num_tokens, num_grid_images, dim = x_t.shape
        batch = num_grid_images // self.num_grids
        x = torch.cat([x_t.view(num_tokens, batch, -1, dim), x_s.view(num_tokens, batch, -1, dim)], dim=2)
        return x.view(num_tokens, -1, dim)

    def forward_paths(self, x_t: torch.Tensor, x_s: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run the block on the paths kept apart (:meth:`split_paths`), as :class:`DualPathViT` does.

        Args:
            x_t (torch.Tensor): Grid tokens ``(L, B*Tt, D)``.
            x_s (torch.Tensor): Frame tokens ``(L, B*Ts, D)``.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Both, updated.
        """
        return self.temporal_path(x_t), self.spatial_path(x_s)

    def forward(self, x: torch.Tensor, num_frames: Optional[int] = None) -> torch.Tensor:
        """Run the block on ``x`` of shape ``(L, B*T, D)``, grids first in each video's ``T`` images.

        Args:
            x (torch.Tensor): Tokens, CLS first.
            num_frames (int, optional): Images per video ``T``. Defaults to the ``num_frames`` given at construction.

        Returns:
            torch.Tensor: The same shape, grids first.
        """
        return self.merge_paths(*self.forward_paths(*self.split_paths(x, num_frames)))
