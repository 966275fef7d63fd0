"""AIM's adapted block (``ResidualAttentionBlock`` in ``taoyang1122/adapt-image-models``,
``mmaction/models/backbones/vit_clip.py``)."""
from typing import Optional

import torch

from videoalign.registry import MODELS
from ...layers.adapter import Adapter
from .clip_block import CLIPBlock


@MODELS.register_module()
class AIMBlock(CLIPBlock):
    """A frozen CLIP block with AIM's temporal, spatial and joint adapters.

    The forward order is AIM's, on ``x`` of shape ``(L, B*T, D)``:

    1. temporal adaptation: ``x = x + drop_path(t_adapter(attn(ln_1(x_t))))``, where ``x_t`` is ``x`` rearranged to
       ``(T, B*L, D)``: the block's own (frozen) ``attn`` and ``ln_1`` attend over the T frames, for every token
       position independently (CLS included). With ``num_tadapter=2`` (SSv2) the input of ``attn`` first goes
       through ``t_adapter_in`` (an adapter with a skip);
    2. spatial adaptation: ``x = x + s_adapter(attn(ln_1(x)))``, ``s_adapter`` with its own skip, no drop path;
    3. joint adaptation: ``x = x + mlp(ln_2(x)) + drop_path(adapter_scale * mlp_adapter(ln_2(x)))`` (the factor is
       ``mlp_adapter``'s own output ``scale``).

    ``t_adapter`` and ``mlp_adapter`` have no skip and all adapters start with a zero ``up_proj``, so at
    initialisation the block is the plain CLIP block. Adapters are named ``t_adapter``, ``s_adapter``,
    ``mlp_adapter`` (and ``t_adapter_in``) with ``down_proj``/``up_proj``: the official ``T_Adapter.D_fc1`` etc.
    are mapped by :func:`~videoalign.models.converters.convert_aim`.

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads.
        adapter_ratio (float): Adapter bottleneck width over ``width``. Defaults to 0.25.
        adapter_scale (float): The factor ``s`` on the MLP adapter: 0.5 for K400, 1.0 for SSv2. Defaults to 0.5.
        num_tadapter (int): 1, or 2 to add ``t_adapter_in`` (SSv2). Defaults to 1.
        **kwargs: The arguments of :class:`CLIPBlock`: ``num_frames`` (the default frames per video, used when
            ``forward`` is not told; 8), ``drop_path`` (of the temporal branch and the MLP adapter; 0),
            ``mlp_ratio`` (4.0) and ``init_cfg``.
    """

    def __init__(self,
                 width: int,
                 num_heads: int,
                 adapter_ratio: float = 0.25,
                 adapter_scale: float = 0.5,
                 num_tadapter: int = 1,
                 **kwargs) -> None:
        super().__init__(width, num_heads, **kwargs)
        if num_tadapter not in (1, 2):
            raise ValueError(f'num_tadapter must be 1 or 2, got {num_tadapter}')
        self.adapter_scale = adapter_scale
        self.t_adapter_in = Adapter(width, adapter_ratio, skip=True) if num_tadapter == 2 else None
        self.t_adapter = Adapter(width, adapter_ratio, skip=False)
        self.s_adapter = Adapter(width, adapter_ratio, skip=True)
        # the factor s of s * mlp_adapter(x) is the adapter's own output scale
        self.mlp_adapter = Adapter(width, adapter_ratio, skip=False, scale=adapter_scale)

    def temporal_attention(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """The temporal branch (before drop path) of ``x`` ``(L, B*T, D)``; returns the same shape.

        The official code rearranges ``x`` to ``(T, B*L, D)`` and back. Everything but the attention acts on each
        token alone, so here ``x`` is read as ``(L*B, T, D)``, a batch-first view of the same memory: each of the
        ``L*B`` sequences of T frames attends to itself, and no token is copied.
        """
        num_tokens, bt, dim = x.shape
        if bt % num_frames != 0:
            raise ValueError(f'{bt} frames do not split into videos of num_frames={num_frames}')
        xt = self.ln_1(x).reshape(-1, num_frames, dim)
        if self.t_adapter_in is not None:
            xt = self.t_adapter_in(xt)
        return self.t_adapter(self.attention(xt, batch_first=True)).view(num_tokens, bt, dim)

    def forward(self, x: torch.Tensor, num_frames: Optional[int] = None) -> torch.Tensor:
        """Run the block on ``x`` of shape ``(L, B*T, D)``, frames of a video contiguous; returns the same shape.

        Args:
            x (torch.Tensor): Tokens, CLS first.
            num_frames (int, optional): Frames per video. Defaults to the ``num_frames`` given at construction.
        """
        num_frames = num_frames or self.num_frames
        x = x + self.drop_path(self.temporal_attention(x, num_frames))
        x = x + self.s_adapter(self.attention(self.ln_1(x)))
        xn = self.ln_2(x)
        return x + self.mlp(xn) + self.drop_path(self.mlp_adapter(xn))
