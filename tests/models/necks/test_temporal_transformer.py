"""TemporalTransformer: Efficient-Prompt's temporal modelling (efficient_prompt.md §2.1) as a neck."""
import math
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn

from videoalign.models.necks import TemporalTransformer
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures


def official_keys(layers: int = 1, width: int = 512, num_frames: int = 16) -> dict:
    """The official ``temporalEmbedding`` / ``temporalModelling`` keys (§3) and shapes, renamed as in the neck."""
    shapes = {'temporal_embedding.weight': (num_frames, width)}
    for i in range(layers):
        block = f'transformer.resblocks.{i}'
        shapes.update({
            f'{block}.attn.in_proj_weight': (3 * width, width),
            f'{block}.attn.in_proj_bias': (3 * width, ),
            f'{block}.attn.out_proj.weight': (width, width),
            f'{block}.attn.out_proj.bias': (width, ),
            f'{block}.ln_1.weight': (width, ),
            f'{block}.ln_1.bias': (width, ),
            f'{block}.mlp.c_fc.weight': (4 * width, width),
            f'{block}.mlp.c_fc.bias': (4 * width, ),
            f'{block}.mlp.c_proj.weight': (width, 4 * width),
            f'{block}.mlp.c_proj.bias': (width, ),
            f'{block}.ln_2.weight': (width, ),
            f'{block}.ln_2.bias': (width, )
        })
    return shapes


class OfficialBlock(nn.Module):
    """The official ``ResidualAttentionBlock`` as efficient_prompt.md §2.1 describes it (pre-LN, QuickGELU)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(c_fc=nn.Linear(width, 4 * width), c_proj=nn.Linear(4 * width, width)))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        hidden = self.mlp.c_fc(self.ln_2(x))
        return x + self.mlp.c_proj(hidden * torch.sigmoid(1.702 * hidden))


def test_keys_shapes_and_parameter_count():
    neck = MODELS.build(dict(type='TemporalTransformer', num_frames=16, embed_dims=512, num_layers=1, num_heads=8))
    assert {k: tuple(v.shape) for k, v in neck.state_dict().items()} == official_keys()
    assert sum(p.numel() for p in neck.parameters()) == 3152384 + 8192
    two = TemporalTransformer(num_layers=2)
    assert sum(p.numel() for p in two.parameters()) == 2 * 3152384 + 8192  # 6.35M with the argparse default


def test_forward_equals_the_official_computation():
    torch.manual_seed(0)
    neck = TemporalTransformer(num_frames=5, embed_dims=32, num_layers=2, num_heads=4)
    neck.init_weights()
    neck.eval()
    blocks = nn.Sequential(*[OfficialBlock(32, 4) for _ in range(2)]).eval()
    blocks.load_state_dict({
        k[len('transformer.resblocks.'):]: v
        for k, v in neck.state_dict().items() if k.startswith('transformer.')
    })
    frames = torch.randn(3, 5, 32)
    # official: (T, B, C) + temporalEmbedding(arange(T)), the blocks, mean over T; no residual around the module
    x = frames.transpose(0, 1) + neck.temporal_embedding(torch.arange(5)).unsqueeze(1)
    expected = blocks(x).mean(dim=0)
    features, aux = neck(frames)  # a bare tensor: the cached frame features of the features config
    assert aux == {}
    out = features.video_embeds
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    # frame order matters (the temporal embedding), and the other fields of named features pass through
    assert not torch.allclose(neck(frames.flip(1))[0].video_embeds, out, atol=1e-5)
    extra = torch.randn(3, 5, 7, 2)
    named, _ = neck(VideoFeatures(frame_embeds=frames, patch_tokens=extra, source='CLIPViT'))
    torch.testing.assert_close(named.video_embeds, out)
    assert named.patch_tokens is extra and named.frame_embeds is frames


def test_init_is_pytorch_default_plus_small_temporal_embedding():
    torch.manual_seed(0)
    neck = TemporalTransformer(num_frames=16, embed_dims=512, num_layers=1, num_heads=8)
    neck.init_weights()
    assert abs(neck.temporal_embedding.weight.std().item() - 0.01) < 1e-3
    block = neck.transformer.resblocks[0]
    assert torch.count_nonzero(block.attn.in_proj_bias) == 0 and torch.count_nonzero(block.attn.out_proj.bias) == 0
    assert torch.equal(block.ln_1.weight, torch.ones(512)) and torch.count_nonzero(block.ln_2.bias) == 0
    # nn.Linear's default: uniform within 1 / sqrt(fan_in), bias included (not zero, not trunc-normal 0.02)
    bound = 1 / math.sqrt(512)
    assert block.mlp.c_fc.weight.abs().max() <= bound and block.mlp.c_fc.weight.abs().max() > 0.9 * bound
    assert block.mlp.c_fc.bias.abs().max() > 0.9 * bound


def test_bad_input_and_arguments():
    neck = TemporalTransformer(num_frames=4, embed_dims=16, num_heads=2)
    with pytest.raises(ValueError, match=r'\(B, 4, 16\)'):
        neck(torch.randn(2, 8, 16))
    with pytest.raises(ValueError, match='divisible'):
        TemporalTransformer(embed_dims=30, num_heads=8)
    with pytest.raises(ValueError, match='num_layers'):
        TemporalTransformer(num_layers=0)
