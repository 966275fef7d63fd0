"""Tests of the blocks that plug into CLIPViT: CLIPBlock and XCLIPBlock."""
import pytest
import torch

from videoalign.models.backbones.clip_blocks import CLIPBlock, XCLIPBlock
from videoalign.models.clip.layers import CLIPResidualBlock
from videoalign.registry import MODELS

WIDTH, HEADS, T, B, L = 32, 2, 4, 2, 5
CLIP_KEYS = {
    'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias', 'ln_1.weight',
    'ln_1.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias', 'ln_2.weight', 'ln_2.bias'
}
MESSAGE_KEYS = {
    'message_fc.weight', 'message_fc.bias', 'message_ln.weight', 'message_ln.bias', 'message_attn.in_proj_weight',
    'message_attn.in_proj_bias', 'message_attn.out_proj.weight', 'message_attn.out_proj.bias'
}


def _build(block_type: str, **kwargs):
    torch.manual_seed(0)
    block = MODELS.build(dict(type=block_type, width=WIDTH, num_heads=HEADS, num_frames=T, **kwargs))
    # make the LayerNorms non-trivial so that a swapped norm cannot go unnoticed
    with torch.no_grad():
        for name, param in block.named_parameters():
            if '_ln' in name or 'ln_' in name:
                param.add_(0.1 * torch.randn_like(param))
    return block.eval()


def reference_xclip_forward(block: XCLIPBlock, x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """X-CLIP's CrossFramelAttentionBlock.forward, written out step by step as in the official code."""
    num_tokens, bt, dim = x.shape
    batch = bt // num_frames
    x = x.view(num_tokens, batch, num_frames, dim)
    msg = block.message_fc(x[0, :, :, :])
    msg = msg.view(batch, num_frames, 1, dim).permute(1, 2, 0, 3).reshape(num_frames, batch, dim)
    normed = block.message_ln(msg)
    msg = msg + block.message_attn(normed, normed, normed, need_weights=False)[0]
    msg = msg.view(num_frames, 1, batch, dim).permute(1, 2, 0, 3)
    x = torch.cat([x, msg], dim=0).view(num_tokens + 1, -1, dim)
    normed = block.ln_1(x)
    x = x + block.attn(normed, normed, normed, need_weights=False)[0]
    x = x[:num_tokens, :, :]
    return x + block.mlp(block.ln_2(x))


def test_keys():
    clip_block = _build('CLIPBlock')
    assert isinstance(clip_block, CLIPBlock) and isinstance(clip_block, CLIPResidualBlock)
    assert set(clip_block.state_dict()) == CLIP_KEYS
    xclip_block = _build('XCLIPBlock')
    assert isinstance(xclip_block, XCLIPBlock)
    assert set(xclip_block.state_dict()) == CLIP_KEYS | MESSAGE_KEYS
    assert xclip_block.message_attn.num_heads == HEADS
    assert not CLIPBlock.fixed_num_frames and not XCLIPBlock.fixed_num_frames


def test_clip_block_is_clip():
    block = _build('CLIPBlock')
    ref = CLIPResidualBlock(WIDTH, HEADS).eval()
    ref.load_state_dict(block.state_dict())
    x = torch.randn(L, B * T, WIDTH)
    torch.testing.assert_close(block(x, T), ref(x))
    assert block(x).shape == x.shape


def test_xclip_block_matches_reference():
    block = _build('XCLIPBlock')
    x = torch.randn(L, B * T, WIDTH)
    out = block(x, T)
    assert out.shape == (L, B * T, WIDTH)  # the message token is not in the output
    torch.testing.assert_close(out, reference_xclip_forward(block, x, T), atol=1e-6, rtol=1e-5)
    # T defaults to the one given at construction
    torch.testing.assert_close(block(x), out)
    # another T splits the same tokens into other videos, which changes the messages
    assert not torch.allclose(block(x, 2), out, atol=1e-4)
    torch.testing.assert_close(block(x, 2), reference_xclip_forward(block, x, 2), atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match='num_frames=3'):
        block(x, 3)


def test_xclip_message_is_used():
    block = _build('XCLIPBlock')
    x = torch.randn(L, B * T, WIDTH)
    out = block(x, T)
    with torch.no_grad():
        block.message_fc.weight.add_(torch.randn_like(block.message_fc.weight))
    assert not torch.allclose(block(x, T), out, atol=1e-4)


@pytest.mark.parametrize('block_type', ['CLIPBlock', 'XCLIPBlock'])
def test_frame_interaction(block_type):
    block = _build(block_type)
    x = torch.randn(L, B * T, WIDTH)
    out = block(x, T)
    # perturb frame 0 of video 1: video 0 is unchanged whatever the block
    x2 = x.clone()
    x2[:, T] += 1.
    out2 = block(x2, T)
    torch.testing.assert_close(out2[:, :T], out[:, :T])
    # the other frames of video 1 change only with cross-frame communication
    changed = not torch.allclose(out2[:, T + 1:], out[:, T + 1:], atol=1e-5)
    assert changed == (block_type == 'XCLIPBlock')


@pytest.mark.parametrize('block_type', ['CLIPBlock', 'XCLIPBlock'])
def test_every_parameter_gets_gradient(block_type):
    block = _build(block_type).train()
    block(torch.randn(L, B * T, WIDTH), T).mean().backward()
    for name, param in block.named_parameters():
        assert param.grad is not None, f'No gradient for {name}'
        assert param.grad.abs().sum() > 0, f'Zero gradient for {name}'


@pytest.mark.parametrize('block_type', ['CLIPBlock', 'XCLIPBlock'])
def test_drop_path_only_in_training(block_type):
    block = _build(block_type, drop_path=0.5)
    plain = _build(block_type)
    plain.load_state_dict(block.state_dict())
    x = torch.randn(L, B * 8, WIDTH)
    torch.testing.assert_close(block(x, 8), plain(x, 8))
    block.train()
    torch.manual_seed(1)
    first = block(x, 8)
    second = block(x, 8)
    assert not torch.allclose(first, second)


def test_xclip_block_attends_through_sdpa(request):
    block = _build('XCLIPBlock')
    x = torch.randn(L, B * T, WIDTH)
    calls = request.getfixturevalue('sdpa_calls')
    with torch.no_grad():
        block(x, T)
    # the message tokens of each video, then the tokens of each frame with its message token
    assert calls == [(B, HEADS, T, WIDTH // HEADS), (B * T, HEADS, L + 1, WIDTH // HEADS)]


def test_xclip_message_drop_path_draws_per_frame_index():
    """As the official (T, B, D) layout: one draw per frame index, shared by the videos of the batch."""
    block = _build('XCLIPBlock', drop_path=0.5).train()
    cls_tokens = torch.randn(4 * T, WIDTH)  # 4 videos
    with torch.no_grad():
        attn_part = block.exchange_messages(cls_tokens, T) - block.message_fc(cls_tokens)
    kept = attn_part.view(4, T, WIDTH).abs().amax(-1) > 0  # (videos, frames)
    assert kept.any() and not kept.all()
    assert (kept == kept[:1]).all()
