"""The plain per-frame CLIP block, the default block of :class:`~videoalign.models.backbones.clip_vit.CLIPViT`."""
import copy
from typing import Optional, Union

import torch
from mmengine.model import BaseModule

from videoalign.registry import MODELS
from ...clip.layers import CLIPResidualBlock


@MODELS.register_module()
class CLIPBlock(CLIPResidualBlock, BaseModule):
    """OpenAI CLIP's visual transformer block, applied to each frame independently.

    All blocks that plug into :class:`CLIPViT` share this interface: ``Block(width, num_heads, num_frames, drop_path,
    **kwargs)`` and ``forward(x, num_frames)`` on sequence-first tokens ``(L, B*T, D)``, the frames of one video
    contiguous along ``B*T``. Key names are CLIP's: ``attn.*``, ``ln_1.*``, ``mlp.c_fc.*``, ``mlp.c_proj.*``,
    ``ln_2.*``.

    A block whose parameters depend on the number of frames sets the class attribute ``fixed_num_frames = True``;
    the backbone then refuses inputs with another T.

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads.
        num_frames (int): Frames per video. Unused by this block. Defaults to 8.
        drop_path (float): Stochastic depth rate of both residual branches. Defaults to 0.
        mlp_ratio (float): Hidden width of the MLP over ``width``. Defaults to 4.0.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    fixed_num_frames = False

    def __init__(self,
                 width: int,
                 num_heads: int,
                 num_frames: int = 8,
                 drop_path: float = 0.,
                 mlp_ratio: float = 4.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        # CLIPResidualBlock.__init__ reaches BaseModule.__init__ through the MRO (with init_cfg=None).
        super().__init__(width, num_heads, drop_path=drop_path, mlp_ratio=mlp_ratio)
        self.init_cfg = copy.deepcopy(init_cfg)
        self.num_frames = num_frames

    def forward(self, x: torch.Tensor, num_frames: Optional[int] = None) -> torch.Tensor:
        """Run the block on ``x`` of shape ``(L, B*T, D)``; ``num_frames`` is accepted for the common interface."""
        return super().forward(x)
