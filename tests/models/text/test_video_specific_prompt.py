"""VideoSpecificPrompt: X-CLIP's video-conditioned prompt generator with its visual input path."""
import math

import pytest
import torch

from videoalign.models.text.video_specific_prompt import PromptCrossAttention, VideoSpecificPrompt
from videoalign.registry import MODELS


def _official_shapes(width: int = 768, dims: int = 512) -> dict:
    """xclip.md §3.1: ``prompts_visual_ln.*``, ``prompts_visual_proj`` and ``prompts_generator.*``, renamed."""
    shapes = {
        'visual_ln.weight': (width, ),  # prompts_visual_ln.weight
        'visual_ln.bias': (width, ),
        'visual_proj': (width, dims),  # prompts_visual_proj
        'alpha': (dims, ),  # prompts_generator.alpha
        'norm.weight': (dims, ),
        'norm.bias': (dims, ),
    }
    for j in range(2):
        layer = f'decoder.{j}.'
        shapes.update({layer + f'cross_attn.{name}.weight': (dims, dims) for name in ('q_proj', 'k_proj', 'v_proj')})
        shapes.update({
            layer + 'cross_attn.proj.weight': (dims, dims),
            layer + 'cross_attn.proj.bias': (dims, ),
            layer + 'norm1.weight': (dims, ),
            layer + 'norm1.bias': (dims, ),
            layer + 'norm3.weight': (dims, ),
            layer + 'norm3.bias': (dims, ),
            layer + 'mlp.0.weight': (4 * dims, dims),
            layer + 'mlp.0.bias': (4 * dims, ),
            layer + 'mlp.3.weight': (dims, 4 * dims),
            layer + 'mlp.3.bias': (dims, ),
        })
    return shapes


def _tiny(**kwargs) -> VideoSpecificPrompt:
    cfg = dict(embed_dims=64, visual_width=48, num_layers=2, num_heads=4)
    cfg.update(kwargs)
    prompt = VideoSpecificPrompt(**cfg)
    prompt.init_weights()
    return prompt.eval()


def test_build_and_output_shape():
    prompt = MODELS.build(dict(type='VideoSpecificPrompt', embed_dims=64, visual_width=48))
    assert prompt.num_heads == 1 and prompt.num_layers == 2
    text, patches = torch.randn(2, 5, 64), torch.randn(2, 3, 7, 48)
    out = prompt(text, patches)
    assert out.shape == (2, 5, 64)
    # class embeddings shared by all videos are expanded, as XCLIP.forward does
    torch.testing.assert_close(prompt(text[0], patches[:1]), out[:1])
    with pytest.raises(ValueError, match='patch tokens'):
        prompt(text, torch.randn(2, 7, 48))


def test_official_keys_shapes_and_parameter_count():
    prompt = VideoSpecificPrompt(embed_dims=512, visual_width=768)
    shapes = {k: tuple(v.shape) for k, v in prompt.state_dict().items()}
    assert shapes == _official_shapes()
    assert prompt.num_heads == 8
    num_params = sum(p.numel() for p in prompt.parameters())
    assert num_params == 6_697_984 and abs(num_params / 1e6 - 6.70) < 0.01  # xclip.md §2.6: 6.70M


def test_init():
    prompt = VideoSpecificPrompt(embed_dims=512, visual_width=768)
    prompt.init_weights()
    torch.testing.assert_close(prompt.alpha.detach(), torch.full((512, ), 0.1))
    assert abs(prompt.visual_proj.std().item() - 1.0) < 0.02  # torch.randn, not trunc_normal
    layer = prompt.decoder[0]
    for linear in (layer.cross_attn.q_proj, layer.cross_attn.k_proj, layer.cross_attn.v_proj):
        assert linear.bias is None and abs(linear.weight.std().item() - 0.02) < 0.002
    for linear in (layer.cross_attn.proj, layer.mlp[0], layer.mlp[3]):
        assert torch.count_nonzero(linear.bias) == 0 and abs(linear.weight.std().item() - 0.02) < 0.002
    for norm in (prompt.visual_ln, prompt.norm, layer.norm1, layer.norm3):
        assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)


def test_fused_attention_equals_explicit_formula():
    torch.manual_seed(0)
    attn = PromptCrossAttention(64, num_heads=4)
    query, memory = torch.randn(2, 5, 64), torch.randn(2, 9, 64)
    # the official MulitHeadAttention, written out
    q = attn.q_proj(query).reshape(2, 5, 4, 16).permute(0, 2, 1, 3)
    k = attn.k_proj(memory).reshape(2, 9, 4, 16).permute(0, 2, 1, 3)
    v = attn.v_proj(memory).reshape(2, 9, 4, 16).permute(0, 2, 1, 3)
    weights = (q @ k.transpose(-2, -1) * (1 / math.sqrt(16))).softmax(dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(2, 5, 64))
    torch.testing.assert_close(attn(query, memory, memory), expected, rtol=1e-5, atol=1e-6)


def test_alpha_scales_the_output():
    prompt = _tiny()
    text, patches = torch.randn(2, 5, 64), torch.randn(2, 3, 7, 48)
    with torch.no_grad():
        prompt.alpha.zero_()
    assert torch.count_nonzero(prompt(text, patches)) == 0
    with torch.no_grad():
        prompt.alpha.fill_(1.)
    full = prompt(text, patches)
    with torch.no_grad():
        prompt.alpha.fill_(0.1)
    torch.testing.assert_close(prompt(text, patches), 0.1 * full)


def test_mean_over_time():
    prompt = _tiny()
    text, patches = torch.randn(2, 5, 64), torch.randn(2, 3, 7, 48)
    out = prompt(text, patches)
    torch.testing.assert_close(prompt(text, patches[:, [2, 0, 1]]), out)
    # the visual tokens are the temporal average of the projected patch tokens
    expected = torch.stack([prompt.visual_ln(patches[:, t]) @ prompt.visual_proj for t in range(3)]).mean(0)
    torch.testing.assert_close(prompt.visual_tokens(patches), expected)
    # ... and the frames matter through that average only
    assert not torch.allclose(prompt(text, patches[:, :1]), out)


def test_gradients_reach_every_parameter():
    prompt = _tiny().train()
    text, patches = torch.randn(2, 5, 64), torch.randn(2, 3, 7, 48)
    (prompt(text, patches)**2).sum().backward()
    for name, param in prompt.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, f'no gradient for {name}'
