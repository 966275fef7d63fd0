"""AIMBlock: AIM's forward order (aim.md §2.4), its identity at initialisation, frame mixing and drop path."""
import einops
import pytest
import torch
import torch.nn.functional as F

from videoalign.models.backbones.clip_blocks import AIMBlock, CLIPBlock
from videoalign.models.backbones.clip_vit import CLIPViT

WIDTH, HEADS = 64, 2


def randomise_adapters(module: torch.nn.Module,
                       names=('t_adapter_in', 't_adapter', 's_adapter', 'mlp_adapter'),
                       seed: int = 0) -> None:
    """Give the named adapters (``down_proj`` and the zero-initialised ``up_proj``) random non-zero weights."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if any(f'{adapter}.' in name for adapter in names):
                param.copy_(0.2 * torch.randn(param.shape, generator=gen))


def adapter_branch(adapter, x: torch.Tensor) -> torch.Tensor:
    """The bottleneck of an official ``Adapter``: ``D_fc2(GELU(D_fc1(x)))`` (exact GELU), without the skip."""
    hidden = F.gelu(F.linear(x, adapter.down_proj.weight, adapter.down_proj.bias))
    return F.linear(hidden, adapter.up_proj.weight, adapter.up_proj.bias)


def reference_forward(block: AIMBlock, x: torch.Tensor, num_frames: int, scale: float) -> torch.Tensor:
    """AIM's ``ResidualAttentionBlock.forward`` as aim.md §2.4 describes it, on the block's own weights."""

    def attn(h):
        return block.attn(h, h, h, need_weights=False)[0]

    num_tokens = x.shape[0]
    # 1. T-MSA over the frames, for every token position (CLS included), with the frozen ln_1 and attn
    xt = einops.rearrange(x, 'n (b t) d -> t (b n) d', t=num_frames)
    h = block.ln_1(xt)
    if block.t_adapter_in is not None:
        h = h + adapter_branch(block.t_adapter_in, h)  # T_Adapter_in has a skip
    xt = adapter_branch(block.t_adapter, attn(h))  # T_Adapter has none
    x = x + einops.rearrange(xt, 't (b n) d -> n (b t) d', n=num_tokens)
    # 2. S-MSA: S_Adapter in series after the attention, with its own skip
    a = attn(block.ln_1(x))
    x = x + a + adapter_branch(block.s_adapter, a)
    # 3. the MLP and the scaled MLP_Adapter in parallel on the same ln_2 output
    xn = block.ln_2(x)
    return x + block.mlp(xn) + scale * adapter_branch(block.mlp_adapter, xn)


@pytest.mark.parametrize('num_tadapter,scale', [(1, 0.5), (2, 1.0)])
def test_forward_matches_the_official_order(num_tadapter, scale):
    torch.manual_seed(0)
    block = AIMBlock(WIDTH, HEADS, num_frames=4, adapter_scale=scale, num_tadapter=num_tadapter).eval()
    randomise_adapters(block)
    x = torch.randn(5, 2 * 4, WIDTH)  # 5 tokens, 2 videos of 4 frames
    with torch.no_grad():
        out = block(x, 4)
        expected = reference_forward(block, x, 4, scale)
        plain = CLIPBlock.forward(block, x)  # the same weights without the adapters
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    assert (out - plain).abs().max() > 1e-2  # the adapters matter, so the comparison above means something
    # the number of frames comes from the construction when not given
    torch.testing.assert_close(block(x), out)


def test_temporal_attention_is_per_token_position_and_per_video():
    torch.manual_seed(0)
    block = AIMBlock(WIDTH, HEADS, num_frames=3).eval()
    randomise_adapters(block, names=('t_adapter', ))
    x = torch.randn(6, 2 * 3, WIDTH)
    changed = x.clone()
    changed[2, 0] += torch.randn(WIDTH)  # token 2 of frame 0 of video 0 (not a constant: ln_1 would remove it)
    with torch.no_grad():
        diff = (block.temporal_attention(changed, 3) - block.temporal_attention(x, 3)).abs().amax(-1)
    assert (diff[2, :3] > 1e-4).all()  # token 2 of every frame of video 0
    diff[2, :3] = 0
    assert diff.max() == 0  # no other token, and nothing of video 1
    with pytest.raises(ValueError, match='num_frames=4'):
        block.temporal_attention(x, 4)


def _tiny_backbones():
    torch.manual_seed(0)
    plain = CLIPViT('tiny', num_frames=4, use_proj=False)
    plain.init_weights()
    aim = CLIPViT(
        'tiny',
        num_frames=4,
        use_proj=False,
        use_temporal_embedding=True,
        block_cfg=dict(type='AIMBlock', adapter_scale=0.5),
        drop_path_rate=0.2)
    aim.init_weights()
    result = aim.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert set(result.missing_keys) == {k for k in aim.state_dict() if 'adapter' in k} | {'temporal_embedding'}
    return plain.eval(), aim.eval()


def test_at_init_the_aim_backbone_is_per_frame_clip():
    plain, aim = _tiny_backbones()
    assert all(not p.any() for n, p in aim.named_parameters() if 'up_proj' in n or n == 'temporal_embedding')
    assert all(p.abs().sum() > 0 for n, p in aim.named_parameters() if 'down_proj.weight' in n)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        expected, out = plain(x).frame_embeds, aim(x).frame_embeds
    assert out.shape == (2, 4, 64)
    assert torch.equal(out, expected)


def test_temporal_branch_mixes_frames():
    plain, aim = _tiny_backbones()
    randomise_adapters(aim, names=('t_adapter', ))
    x = torch.randn(1, 3, 4, 32, 32)
    changed = x.clone()
    changed[:, :, 0] += 1.  # frame 0 only
    with torch.no_grad():
        plain_diff = (plain(changed).frame_embeds - plain(x).frame_embeds).abs().amax(-1)[0]
        aim_diff = (aim(changed).frame_embeds - aim(x).frame_embeds).abs().amax(-1)[0]
    assert plain_diff[0] > 1e-3 and aim_diff[0] > 1e-3
    assert plain_diff[1:].max() < 1e-6  # plain CLIP: the other frames do not see frame 0
    assert (aim_diff[1:] > 1e-4).all()  # AIM: every other frame does


def test_num_tadapter():
    one = AIMBlock(WIDTH, HEADS)
    two = AIMBlock(WIDTH, HEADS, num_tadapter=2)
    adapters = {n.split('.')[0] for n, _ in one.named_parameters() if 'adapter' in n}
    assert adapters == {'t_adapter', 's_adapter', 'mlp_adapter'} and one.t_adapter_in is None
    assert {n.split('.')[0] for n, _ in two.named_parameters() if 'adapter' in n} == adapters | {'t_adapter_in'}
    assert two.t_adapter_in.skip and one.s_adapter.skip and not one.t_adapter.skip and not one.mlp_adapter.skip
    assert sum(p.numel() for p in two.parameters()) - sum(p.numel() for p in one.parameters()) == \
        2 * WIDTH * (WIDTH // 4) + WIDTH // 4 + WIDTH
    with pytest.raises(ValueError, match='num_tadapter'):
        AIMBlock(WIDTH, HEADS, num_tadapter=3)


def test_adapter_size_of_vit_b16():
    block = AIMBlock(768, 12)
    for name in ('t_adapter', 's_adapter', 'mlp_adapter'):
        assert sum(p.numel() for p in getattr(block, name).parameters()) == 295_872  # aim.md §2.7
        assert getattr(block, name).down_proj.out_features == 192


def _train_outputs(block, x, calls: int = 4) -> list:
    block.train()
    outs = []
    with torch.no_grad():
        for seed in range(calls):
            torch.manual_seed(seed)
            outs.append(block(x, 4))
    return outs


@pytest.mark.parametrize('adapters,random', [((), False), (('s_adapter', ), False), (('t_adapter', ), True),
                                             (('mlp_adapter', ), True)])
def test_drop_path_only_on_the_temporal_branch_and_the_mlp_adapter(adapters, random):
    torch.manual_seed(0)
    block = AIMBlock(WIDTH, HEADS, num_frames=4, drop_path=0.5)
    if adapters:
        randomise_adapters(block, names=adapters)
    x = torch.randn(5, 8, WIDTH)
    outs = _train_outputs(block, x)
    with torch.no_grad():
        expected = block.eval()(x, 4)
    if random:
        assert any(not torch.allclose(out, outs[0]) for out in outs[1:])
    else:  # the spatial branch and the MLP have no drop path: train mode gives the eval output
        for out in outs:
            torch.testing.assert_close(out, expected)


def test_plain_block_drop_path_is_seen():
    """The check above can fail: a CLIP block with drop path on its attention and MLP is random in training."""
    torch.manual_seed(0)
    block = CLIPBlock(WIDTH, HEADS, drop_path=0.5)
    outs = _train_outputs(block, torch.randn(5, 8, WIDTH))
    assert any(not torch.allclose(out, outs[0]) for out in outs[1:])


def test_temporal_attention_is_one_sdpa_call_on_a_view_and_equals_the_permuted_formula(request):
    torch.manual_seed(0)
    block = AIMBlock(WIDTH, HEADS, num_frames=4, num_tadapter=2).eval()
    randomise_adapters(block)
    x = torch.randn(5, 2 * 4, WIDTH)
    with torch.no_grad():
        # the official rearrangement (T, B*L, D) and back, attention through nn.MultiheadAttention
        xt = block.t_adapter_in(block.ln_1(einops.rearrange(x, 'n (b t) d -> t (b n) d', t=4)))
        expected = block.t_adapter(block.attn(xt, xt, xt, need_weights=False)[0])
        expected = einops.rearrange(expected, 't (b n) d -> n (b t) d', n=5)
        calls = request.getfixturevalue('sdpa_calls')
        out = block.temporal_attention(x, 4)
        assert calls == [(5 * 2, HEADS, 4, WIDTH // HEADS)]  # (L*B) sequences of T frames
        block(x, 4)
    assert len(calls) == 3  # and one for the spatial attention
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
