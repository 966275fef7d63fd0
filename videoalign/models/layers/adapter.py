"""The bottleneck adapter of AIM and DualPath."""
import math
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

INIT_MODES = ('aim', 'lora')


class Adapter(BaseModule):
    """``scale * up_proj(dropout(GELU(down_proj(x))))``, plus ``x`` when ``skip``.

    ``up_proj`` starts at zero (weight and bias), so a branch made of an adapter adds nothing at initialisation.

    Args:
        dims (int): Input and output width ``D``.
        ratio (float): Bottleneck width over ``D``: AIM and DualPath use 0.25. Defaults to 0.25.
        skip (bool): Add the input to the output (AIM's ``S_Adapter``). Defaults to False.
        dropout (float): Dropout after the activation (DualPath: 0.1). Defaults to 0.
        scale (float): Factor on the bottleneck branch. Defaults to 1.
        init_mode (str): ``'aim'``: ``down_proj`` trunc-normal (std 0.02) with zero bias; ``'lora'`` (DualPath):
            ``down_proj`` weight kaiming-uniform (a=sqrt(5)) with zero bias. ``up_proj`` is zero in both.
            Defaults to ``'aim'``.
        init_cfg (dict, optional): Initialisation config, run after the default above. Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 ratio: float = 0.25,
                 skip: bool = False,
                 dropout: float = 0.,
                 scale: float = 1.,
                 init_mode: str = 'aim',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if init_mode not in INIT_MODES:
            raise ValueError(f'init_mode must be one of {INIT_MODES}, got {init_mode!r}')
        hidden = int(dims * ratio)
        self.skip = skip
        self.scale = scale
        self.init_mode = init_mode
        self.down_proj = nn.Linear(dims, hidden)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.up_proj = nn.Linear(hidden, dims)
        self._reset()

    def _reset(self) -> None:
        if self.init_mode == 'aim':
            trunc_normal_(self.down_proj.weight, std=.02)
        else:
            nn.init.kaiming_uniform_(self.down_proj.weight, a=math.sqrt(5))
        nn.init.zeros_(self.down_proj.bias)
        nn.init.zeros_(self.up_proj.weight)
        nn.init.zeros_(self.up_proj.bias)

    def init_weights(self) -> None:
        """The default initialisation of ``init_mode``, then ``init_cfg``."""
        if not self.is_init:
            self._reset()
        super().init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the adapter to ``x`` of shape ``(..., D)``."""
        out = self.up_proj(self.dropout(self.act(self.down_proj(x))))
        if self.scale != 1:
            out = out * self.scale
        return x + out if self.skip else out
