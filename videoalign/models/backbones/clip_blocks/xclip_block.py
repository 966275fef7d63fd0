"""X-CLIP's cross-frame communication block (``CrossFramelAttentionBlock`` in ``microsoft/VideoX``,
``X-CLIP/models/cct.py``)."""
from typing import Optional

import torch
import torch.nn as nn

from videoalign.registry import MODELS
from ...clip.layers import LayerNorm, self_attention
from .clip_block import CLIPBlock


@MODELS.register_module()
class XCLIPBlock(CLIPBlock):
    """A CLIP block whose spatial attention also sees one message token per frame, exchanged across frames.

    The forward order is X-CLIP's, on ``x`` of shape ``(L, B*T, D)``:

    1. ``msg = message_fc(x[0])``: one message token per frame, from the frame's CLS token, viewed as ``(T, B, D)``;
    2. ``msg = msg + drop_path(message_attn(message_ln(msg)))``: pre-LN self-attention among the T message tokens
       of each video, with a residual;
    3. each frame's message token is appended to its tokens, giving ``L + 1`` tokens;
    4. ``x = x + drop_path(attn(ln_1(x)))``;
    5. the message token is dropped (``x = x[:L]``);
    6. ``x = x + drop_path(mlp(ln_2(x)))``.

    Message tokens are made afresh in every block and never pass through the MLP. The message modules keep
    PyTorch's default initialisation, as in the official code, and are not in CLIP's weights. They add
    ``5 D^2 + 8 D`` parameters per block (no parameter depends on T, so any number of frames is accepted).

    Args:
        width (int): Token width ``D``.
        num_heads (int): Attention heads, shared by ``attn`` and ``message_attn``.
        **kwargs: The arguments of :class:`CLIPBlock`: ``num_frames`` (the default frames per video, used when
            ``forward`` is not told; 8), ``drop_path`` (of the three residual branches; 0), ``mlp_ratio`` (4.0) and
            ``init_cfg``.
    """

    def __init__(self, width: int, num_heads: int, **kwargs) -> None:
        super().__init__(width, num_heads, **kwargs)
        self.message_fc = nn.Linear(width, width)
        self.message_ln = LayerNorm(width)
        self.message_attn = nn.MultiheadAttention(width, num_heads)

    def exchange_messages(self, cls_tokens: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Make the message tokens of all frames from their CLS tokens.

        Args:
            cls_tokens (torch.Tensor): CLS tokens of shape ``(B*T, D)``.
            num_frames (int): Frames per video ``T``.

        Returns:
            torch.Tensor: One message token per frame, shape ``(B*T, D)`` in the order of ``cls_tokens``.
        """
        bt, dim = cls_tokens.shape
        if bt % num_frames != 0:
            raise ValueError(f'{bt} frames do not split into videos of num_frames={num_frames}')
        msg = self.message_fc(cls_tokens).view(bt // num_frames, num_frames, dim)  # (B, T, D)
        out = self_attention(self.message_attn, self.message_ln(msg), batch_first=True)
        # drop path sees the official (T, B, D) layout: one draw per frame index
        msg = msg + self.drop_path(out.transpose(0, 1)).transpose(0, 1)
        return msg.reshape(bt, dim)

    def forward(self, x: torch.Tensor, num_frames: Optional[int] = None) -> torch.Tensor:
        """Run the block on ``x`` of shape ``(L, B*T, D)``, frames of a video contiguous; returns the same shape.

        Args:
            x (torch.Tensor): Tokens, CLS first.
            num_frames (int, optional): Frames per video. Defaults to the ``num_frames`` given at construction.
        """
        num_frames = num_frames or self.num_frames
        num_tokens = x.shape[0]
        msg = self.exchange_messages(x[0], num_frames)
        x = torch.cat([x, msg.unsqueeze(0)], dim=0)
        x = x + self.drop_path(self.attention(self.ln_1(x)))
        x = x[:num_tokens]
        return x + self.drop_path(self.mlp(self.ln_2(x)))
