"""CLIP's shared layers: fused self-attention (unfused in bf16 on a CPU without AMX), in-place QuickGELU and the
reduced-precision LayerNorm on the CPU."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.models.clip import layers
from videoalign.models.clip.layers import CLIPResidualBlock, LayerNorm, QuickGELU, self_attention
from videoalign.models.text.clip_text_encoder import build_causal_mask

WIDTH, HEADS = 32, 4


def _mha() -> nn.MultiheadAttention:
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(WIDTH, HEADS).eval()
    with torch.no_grad():
        attn.in_proj_bias.normal_()
        attn.out_proj.bias.normal_()
    return attn


@pytest.mark.parametrize('mask', [None, 'causal', 'bool'])
def test_self_attention_is_multihead_attention_in_one_sdpa_call(request, mask):
    attn = _mha()
    x = torch.randn(6, 3, WIDTH)  # (S, N, D)
    if mask == 'causal':
        mask = build_causal_mask(6)
    elif mask == 'bool':
        mask = torch.rand(6, 6) > 0.7
        mask.fill_diagonal_(False)  # every query keeps a key
    with torch.no_grad():
        expected = attn(x, x, x, need_weights=False, attn_mask=mask)[0]
        calls = request.getfixturevalue('sdpa_calls')
        seq_first = self_attention(attn, x, attn_mask=mask)
        batch_first = self_attention(attn, x.transpose(0, 1).contiguous(), batch_first=True, attn_mask=mask)
    assert calls == [(3, HEADS, 6, WIDTH // HEADS)] * 2
    torch.testing.assert_close(seq_first, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(batch_first.transpose(0, 1), expected, rtol=1e-6, atol=1e-6)
    assert batch_first.is_contiguous() and seq_first.is_contiguous()


def test_self_attention_gradients_and_unsupported_modules():
    attn = _mha()
    x = torch.randn(5, 2, WIDTH, requires_grad=True)
    self_attention(attn, x).square().sum().backward()
    grads = [x.grad] + [p.grad for p in attn.parameters()]
    x.grad = None
    attn.zero_grad(set_to_none=True)
    attn(x, x, x, need_weights=False)[0].square().sum().backward()
    for got, expected in zip(grads, [x.grad] + [p.grad for p in attn.parameters()]):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='packed input projections'):
        self_attention(nn.MultiheadAttention(WIDTH, HEADS, add_bias_kv=True), x)


@pytest.mark.parametrize('mask', [None, 'causal', 'bool'])
@pytest.mark.parametrize('amx', [False, True])
def test_bf16_attention_without_amx_takes_matmuls_and_matches(request, monkeypatch, mask, amx):
    """bf16 on a CPU without AMX: two matmuls and a softmax instead of the fused kernel, the same attention."""
    monkeypatch.setattr(layers, 'cpu_has_amx', lambda: amx)
    attn = _mha()
    x = torch.randn(7, 3, WIDTH)
    if mask == 'causal':
        mask = build_causal_mask(7)
    elif mask == 'bool':
        mask = torch.rand(7, 7) > 0.7
        mask.fill_diagonal_(False)
    with torch.no_grad():
        expected = attn(x, x, x, need_weights=False, attn_mask=mask)[0]
        calls = request.getfixturevalue('sdpa_calls')
        fp32 = self_attention(attn, x, attn_mask=mask)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            bf16 = self_attention(attn, x, attn_mask=mask)
            bf16_batch_first = self_attention(attn, x.transpose(0, 1), batch_first=True, attn_mask=mask)
    assert len(calls) == (3 if amx else 1)  # float32 always takes the fused kernel
    assert layers.fused_attention_is_slow(x.bfloat16()) is not amx and not layers.fused_attention_is_slow(x)
    torch.testing.assert_close(fp32, expected, rtol=1e-6, atol=1e-6)
    assert bf16.dtype == torch.bfloat16
    torch.testing.assert_close(bf16.float(), expected, rtol=0.05, atol=0.05)
    torch.testing.assert_close(bf16_batch_first.transpose(0, 1), bf16, rtol=0.05, atol=0.02)


def test_cross_attention_by_matmul_matches_the_fused_kernel(monkeypatch):
    """Queries and keys of other lengths (X-CLIP's prompt generator), a float and a boolean mask, with and without
    the matmul path, against ``F.scaled_dot_product_attention`` in float32."""
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 9, 8), torch.randn(2, 4, 9, 6)
    keep = torch.rand(5, 9) > 0.3
    keep[:, 0] = True
    for amx in (False, True):
        monkeypatch.setattr(layers, 'cpu_has_amx', lambda: amx)
        for mask in (None, keep, torch.randn(5, 9)):
            expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            torch.testing.assert_close(layers.scaled_dot_product_attention(q, k, v, attn_mask=mask), expected)
            mask_bf16 = mask.bfloat16() if mask is not None and mask.is_floating_point() else mask
            bf16 = layers.scaled_dot_product_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(), attn_mask=mask_bf16)
            torch.testing.assert_close(bf16.float(), expected, rtol=0.05, atol=0.05)


def test_bf16_attention_by_matmul_trains_with_dropout(monkeypatch):
    monkeypatch.setattr(layers, 'cpu_has_amx', lambda: False)
    attn = _mha().train()
    attn.dropout = 0.5
    x = torch.randn(5, 2, WIDTH, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        torch.manual_seed(0)
        first = self_attention(attn, x)
        torch.manual_seed(1)
        second = self_attention(attn, x)
    assert not torch.equal(first, second)  # dropout acts in training
    first.float().square().sum().backward()
    assert x.grad is not None and attn.in_proj_weight.grad is not None and attn.in_proj_weight.grad.abs().sum() > 0


def test_block_attention_uses_the_leading_part_of_its_mask(request):
    torch.manual_seed(0)
    block = CLIPResidualBlock(WIDTH, HEADS, attn_mask=build_causal_mask(9)).eval()
    x = torch.randn(4, 2, WIDTH)
    with torch.no_grad():
        expected = block.attn(x, x, x, need_weights=False, attn_mask=build_causal_mask(4))[0]
        calls = request.getfixturevalue('sdpa_calls')
        out = block.attention(x)
        out_bf = block.attention(x.transpose(0, 1).contiguous(), batch_first=True)
    assert len(calls) == 2
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out_bf.transpose(0, 1), expected, rtol=1e-6, atol=1e-6)


def test_quick_gelu_in_place_only_without_autograd():
    x = torch.randn(4, 8)
    expected = x * torch.sigmoid(1.702 * x)
    assert QuickGELU()(x) is not x
    y = x.clone()
    with torch.no_grad():
        out = QuickGELU(inplace=True)(y)
    assert out.data_ptr() == y.data_ptr() and torch.equal(out, expected)  # same values, bit for bit
    leaf = x.clone().requires_grad_()
    out = QuickGELU(inplace=True)(leaf)  # autograd needs the input: not in place
    assert torch.equal(out, expected) and torch.equal(leaf, x)
    out.sum().backward()
    reference = x.clone().requires_grad_()
    (reference * torch.sigmoid(1.702 * reference)).sum().backward()
    torch.testing.assert_close(leaf.grad, reference.grad)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('autocast', [False, True])
def test_layer_norm_of_reduced_precision_on_the_cpu(dtype, autocast):
    torch.manual_seed(0)
    norm = LayerNorm(WIDTH)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = (3 * torch.randn(5, 7, WIDTH) + 1).to(dtype)
    expected = F.layer_norm(x.float(), (WIDTH, ), norm.weight, norm.bias, norm.eps).to(dtype)
    with torch.autocast('cpu', dtype=dtype, enabled=autocast):
        out = norm(x)
    assert out.dtype == dtype
    torch.testing.assert_close(out, expected, rtol=0, atol=2 * expected.abs().max().item() * torch.finfo(dtype).eps)
    # float32 input: CLIP's float32 LayerNorm, unchanged
    x32 = x.float()
    assert torch.equal(norm(x32), F.layer_norm(x32, (WIDTH, ), norm.weight, norm.bias, norm.eps))
