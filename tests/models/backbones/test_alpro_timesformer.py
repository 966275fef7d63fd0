"""ALPROTimeSformer: ALPRO's pooled tokens, the official nearest resize on load, activation checkpointing, and the
official key mapping (alpro.md §2.1, §5; bevt_alpro_build.md §3)."""
import math

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from mmaction.models.backbones import TimeSformer

from videoalign.models.backbones import ALPROTimeSformer
from videoalign.models.backbones.alpro_timesformer import resize_embed_nearest
from videoalign.models.converters import convert_alpro_visual
from videoalign.registry import MODELS

# 32 px frames of 8 px patches: a 4 x 4 grid, 1 + 16 = 17 pooled tokens (the analogue of 197 at 224 / 16)
TINY = dict(img_size=32, patch_size=8, embed_dims=32, num_heads=2, num_transformer_layers=2)
GRID, WIDTH, DEPTH, HEADS = 4, 32, 2, 2


def _tiny(num_frames: int = 2, **kwargs) -> ALPROTimeSformer:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ALPROTimeSformer', num_frames=num_frames, **dict(TINY, **kwargs)))
    with torch.no_grad():  # non-zero everywhere (mmaction2 zero-initialises time_embed and temporal_fc)
        for param in model.parameters():
            param.normal_(0, 0.2)
    return model.eval()


def _reference_pooling(tokens: torch.Tensor, num_frames: int, grid: int) -> torch.Tensor:
    """The official ``TimeSformer.forward_features(..., pooling='temporal')`` on the normed tokens (alpro.md §2.1)."""
    cls_tokens = tokens[:, 0, :].unsqueeze(1)
    other_tokens = tokens[:, 1:, :]
    x = rearrange(other_tokens, 'b (h w t) m -> b t (h w) m', h=grid, w=grid, t=num_frames)
    x = torch.mean(x, dim=1)
    return torch.cat((cls_tokens, x), dim=1)


def test_build_keys_and_defaults():
    model = _tiny()
    assert isinstance(model, TimeSformer)
    keys = set(model.state_dict())
    assert {
        'cls_token', 'pos_embed', 'time_embed', 'patch_embed.projection.weight', 'norm.weight',
        'transformer_layers.layers.1.attentions.0.temporal_fc.weight',
        'transformer_layers.layers.1.attentions.1.attn.in_proj_weight',
        'transformer_layers.layers.1.ffns.0.layers.1.bias'
    } <= keys
    layers = model.transformer_layers.layers
    assert [layer.attentions[0].dropout_layer.drop_prob for layer in layers] == [0., 0.1]  # linspace(0, 0.1)
    eps = {m.eps for m in model.modules() if isinstance(m, torch.nn.LayerNorm)}
    assert eps == {1e-6}


def test_full_size_parameter_count():
    model = ALPROTimeSformer()  # TimeSformer-B/16, 224 px, T = 8
    assert (model.num_frames, model.img_size, model.patch_size, model.embed_dims) == (8, 224, 16, 768)
    # bevt_alpro_build.md: the official TimeSformer at T = 4 has 121,563,280 parameters with its unused 400-class head
    # (307,600); without the head and with 4 more time_embed rows at T = 8: 121,258,752 (also LAVIS's figure)
    assert sum(p.numel() for p in model.parameters()) == 121_563_280 - 307_600 + 4 * 768 == 121_258_752


@pytest.mark.parametrize('num_frames', [1, 2, 4])
def test_output_shape_whatever_the_number_of_frames(num_frames):
    model = _tiny(num_frames)
    with torch.no_grad():
        out = model(torch.randn(3, 3, num_frames, 32, 32))
    assert out.names == ('video_tokens', ) and out.source == 'ALPROTimeSformer'
    assert out.video_tokens.shape == (3, 1 + GRID * GRID, WIDTH)


def test_input_checks():
    model = _tiny(2)
    with pytest.raises(ValueError, match=r'num_frames=2 frames of 32x32 pixels, got shape \(1, 3, 4, 32, 32\)'):
        model(torch.randn(1, 3, 4, 32, 32))
    with pytest.raises(ValueError, match=r'num_frames=2 frames of 32x32'):
        model(torch.randn(1, 3, 2, 24, 24))
    with pytest.raises(ValueError, match=r'\(B, C, T, H, W\)'):
        model(torch.randn(3, 2, 32, 32))
    with pytest.raises(ValueError, match='img_size=30 and patch_size=8'):
        ALPROTimeSformer(img_size=30, patch_size=8)


@pytest.mark.parametrize('num_frames', [2, 4])
def test_pooling_is_the_official_one_after_the_final_norm(num_frames):
    model = _tiny(num_frames)
    raw = {}
    model.norm.register_forward_hook(lambda module, args, output: raw.update(tokens=output))
    x = torch.randn(2, 3, num_frames, 32, 32)
    with torch.no_grad():
        pooled = model(x).video_tokens
        cls_only = TimeSformer.forward(model, x)  # mmaction2's own forward: the normed CLS token
    assert raw['tokens'].shape == (2, 1 + GRID * GRID * num_frames, WIDTH)
    torch.testing.assert_close(pooled, _reference_pooling(raw['tokens'], num_frames, GRID), rtol=0, atol=0)
    torch.testing.assert_close(pooled[:, 0], cls_only, rtol=0, atol=1e-6)


def _nearest_rows(length_in: int, length_out: int) -> list:
    """The rows that 1-D nearest interpolation picks: ``floor(i * L_in / L_out)``."""
    return [math.floor(i * length_in / length_out) for i in range(length_out)]


def test_load_resizes_time_and_position_embeddings(tmp_path):
    source = _tiny(4, img_size=24)  # 4 frames, a 3 x 3 grid: pos_embed (1, 10, D), time_embed (1, 4, D)
    state = source.state_dict()
    assert state['pos_embed'].shape == (1, 10, WIDTH) and state['time_embed'].shape == (1, 4, WIDTH)
    expected_time = state['time_embed'][:, _nearest_rows(4, 8)]
    assert _nearest_rows(4, 8) == [0, 0, 1, 1, 2, 2, 3, 3]
    patch_rows = [1 + row for row in _nearest_rows(9, 16)]  # the CLS position is kept, the 9 others stretched to 16
    expected_pos = torch.cat([state['pos_embed'][:, :1], state['pos_embed'][:, patch_rows]], dim=1)

    target = _tiny(8)
    target.load_state_dict(state, strict=True)
    assert state['time_embed'].shape == (1, 4, WIDTH)  # the caller's dict is not changed
    torch.testing.assert_close(target.time_embed.data, expected_time, rtol=0, atol=0)
    torch.testing.assert_close(target.pos_embed.data, expected_pos, rtol=0, atol=0)
    torch.testing.assert_close(target.norm.weight.data, state['norm.weight'], rtol=0, atol=0)

    # mmengine's Pretrained init (and so a runner's load_from) go through the same hook
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, path)
    init = MODELS.build(
        dict(
            type='ALPROTimeSformer',
            num_frames=8,
            init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'),
            **TINY))
    init.init_weights()
    torch.testing.assert_close(init.time_embed.data, expected_time, rtol=0, atol=0)
    torch.testing.assert_close(init.pos_embed.data, expected_pos, rtol=0, atol=0)

    # another width is not resized: load_state_dict reports it
    wrong = dict(state, time_embed=torch.zeros(1, 4, WIDTH + 1))
    with pytest.raises(RuntimeError, match='time_embed'):
        target.load_state_dict(wrong)


def test_resize_embed_nearest_checks():
    embed = torch.arange(5.).view(1, 5, 1)
    assert resize_embed_nearest(embed, 2, num_extra_tokens=1).flatten().tolist() == [0., 1., 3.]
    assert resize_embed_nearest(embed, 4, num_extra_tokens=1) is embed
    with pytest.raises(ValueError, match=r'shape \(1, 1 \+ L, D\).*got \(5, 1\)'):
        resize_embed_nearest(embed[0], 3, num_extra_tokens=1)
    with pytest.raises(ValueError, match='length >= 1'):
        resize_embed_nearest(embed, 0)


def test_activation_checkpointing_gives_the_same_output_and_gradients():
    plain, cp = _tiny(4), _tiny(4, with_cp=True)
    cp.load_state_dict(plain.state_dict())
    plain.train(), cp.train()  # drop path (0.1 in the last block) is active: the recomputation must replay it
    x = torch.randn(3, 3, 4, 32, 32)
    results = []
    for model in (plain, cp):
        torch.manual_seed(1)
        out = model(x).video_tokens
        out.pow(2).sum().backward()
        results.append((out.detach(), {name: p.grad.clone() for name, p in model.named_parameters()}))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=0, atol=0)
    assert results[1][1].keys() == results[0][1].keys()
    for name, grad in results[0][1].items():
        torch.testing.assert_close(results[1][1][name], grad, rtol=1e-6, atol=1e-7, msg=name)


def _official_state(num_frames: int, prefix: str = 'visual_encoder.model.') -> dict:
    """An official-layout ALPRO video encoder (timm/TimeSformer ``VisionTransformer`` names), random values."""
    torch.manual_seed(2)
    shapes = {
        'cls_token': (1, 1, WIDTH),
        'pos_embed': (1, 1 + GRID * GRID, WIDTH),
        'time_embed': (1, num_frames, WIDTH),
        'patch_embed.proj.weight': (WIDTH, 3, 8, 8),
        'patch_embed.proj.bias': (WIDTH, ),
        'norm.weight': (WIDTH, ),
        'norm.bias': (WIDTH, ),
        'head.weight': (400, WIDTH),
        'head.bias': (400, ),
    }
    for i in range(DEPTH):
        for name in ('norm1', 'temporal_norm1', 'norm2'):
            shapes.update({f'blocks.{i}.{name}.weight': (WIDTH, ), f'blocks.{i}.{name}.bias': (WIDTH, )})
        for name in ('attn', 'temporal_attn'):
            shapes.update({
                f'blocks.{i}.{name}.qkv.weight': (3 * WIDTH, WIDTH),
                f'blocks.{i}.{name}.qkv.bias': (3 * WIDTH, ),
                f'blocks.{i}.{name}.proj.weight': (WIDTH, WIDTH),
                f'blocks.{i}.{name}.proj.bias': (WIDTH, )
            })
        shapes.update({
            f'blocks.{i}.temporal_fc.weight': (WIDTH, WIDTH),
            f'blocks.{i}.temporal_fc.bias': (WIDTH, ),
            f'blocks.{i}.mlp.fc1.weight': (4 * WIDTH, WIDTH),
            f'blocks.{i}.mlp.fc1.bias': (4 * WIDTH, ),
            f'blocks.{i}.mlp.fc2.weight': (WIDTH, 4 * WIDTH),
            f'blocks.{i}.mlp.fc2.bias': (WIDTH, )
        })
    state = {prefix + key: torch.randn(shape) * 0.2 for key, shape in shapes.items()}
    for key in state:
        if key.endswith(('norm1.weight', 'norm2.weight', 'norm.weight')):
            state[key] += 1
    return state


def _official_forward(sd: dict, x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """A transcription of the official ``VisionTransformer.forward_features`` (divided space-time, eval) and the
    ``pooling='temporal'`` of its wrapper, on an official-layout state dict without prefix."""

    def ln(t, name):
        return F.layer_norm(t, (WIDTH, ), sd[f'{name}.weight'], sd[f'{name}.bias'], eps=1e-6)

    def linear(t, name):
        return F.linear(t, sd[f'{name}.weight'], sd[f'{name}.bias'])

    def attention(t, name):  # timm's Attention: a fused qkv Linear, (3, heads, head_dim) on the output features
        b, n, c = t.shape
        qkv = linear(t, f'{name}.qkv').reshape(b, n, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * (c // HEADS)**-0.5).softmax(dim=-1)
        return linear((attn @ v).transpose(1, 2).reshape(b, n, c), f'{name}.proj')

    B, T, H = x.shape[0], num_frames, GRID
    x = rearrange(x, 'b c t h w -> (b t) c h w')
    x = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=8).flatten(2).transpose(1, 2)
    x = torch.cat((sd['cls_token'].expand(x.size(0), -1, -1), x), dim=1) + sd['pos_embed']
    cls_tokens = x[:B, 0, :].unsqueeze(1)
    x = rearrange(x[:, 1:], '(b t) n m -> (b n) t m', b=B, t=T) + sd['time_embed']
    x = torch.cat((cls_tokens, rearrange(x, '(b n) t m -> b (n t) m', b=B, t=T)), dim=1)
    for i in range(DEPTH):
        blk = f'blocks.{i}'
        xt = rearrange(x[:, 1:, :], 'b (h w t) m -> (b h w) t m', b=B, h=H, w=H, t=T)
        res_temporal = attention(ln(xt, f'{blk}.temporal_norm1'), f'{blk}.temporal_attn')
        res_temporal = rearrange(res_temporal, '(b h w) t m -> b (h w t) m', b=B, h=H, w=H, t=T)
        xt = x[:, 1:, :] + linear(res_temporal, f'{blk}.temporal_fc')
        init_cls_token = x[:, 0, :].unsqueeze(1)
        cls_token = rearrange(init_cls_token.repeat(1, T, 1), 'b t m -> (b t) m', b=B, t=T).unsqueeze(1)
        xs = rearrange(xt, 'b (h w t) m -> (b t) (h w) m', b=B, h=H, w=H, t=T)
        res_spatial = attention(ln(torch.cat((cls_token, xs), 1), f'{blk}.norm1'), f'{blk}.attn')
        cls_token = torch.mean(rearrange(res_spatial[:, 0, :], '(b t) m -> b t m', b=B, t=T), 1, True)
        res_spatial = rearrange(res_spatial[:, 1:, :], '(b t) (h w) m -> b (h w t) m', b=B, h=H, w=H, t=T)
        x = torch.cat((init_cls_token, xt), 1) + torch.cat((cls_token, res_spatial), 1)
        x = x + linear(F.gelu(linear(ln(x, f'{blk}.norm2'), f'{blk}.mlp.fc1')), f'{blk}.mlp.fc2')
    return _reference_pooling(ln(x, 'norm'), T, GRID)


def test_convert_official_layout_loads_strictly_and_matches_the_official_forward():
    official = _official_state(4)
    others = {'temp': torch.tensor(0.07), 'text_encoder.bert.embeddings.word_embeddings.weight': torch.randn(8, 4)}
    converted = convert_alpro_visual({'module.' + k: v for k, v in dict(official, **others).items()})
    assert not any(key.startswith('head.') for key in converted)
    assert len(converted) == len(official) - 2
    model = _tiny(4)
    result = model.load_state_dict(converted, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    prefix = 'visual_encoder.model.'
    assert converted['transformer_layers.layers.1.attentions.0.attn.in_proj_weight'] is \
        official[prefix + 'blocks.1.temporal_attn.qkv.weight']
    assert converted['transformer_layers.layers.0.ffns.0.layers.0.0.bias'] is official[prefix + 'blocks.0.mlp.fc1.bias']

    x = torch.randn(2, 3, 4, 32, 32)
    bare = {k[len(prefix):]: v for k, v in official.items()}
    with torch.no_grad():
        torch.testing.assert_close(model(x).video_tokens, _official_forward(bare, x, 4), rtol=1e-4, atol=1e-5)


def test_convert_prefixes_wrappers_and_errors():
    prompter = _official_state(2, prefix='prompter.visual_encoder.model.')
    student = _official_state(4)
    both = {'model': dict(student, **prompter)}  # LAVIS wraps the state dict in {'model': ...}
    converted = convert_alpro_visual(both, prefix='prompter.visual_encoder.model.')
    _tiny(2).load_state_dict(converted, strict=True)
    assert convert_alpro_visual(both)['time_embed'].shape == (1, 4, WIDTH)
    bare = convert_alpro_visual({k[len('visual_encoder.model.'):]: v for k, v in student.items()}, prefix='')
    assert bare.keys() == convert_alpro_visual(student).keys()

    with pytest.raises(
            KeyError, match=r'not ALPRO video encoder keys \(no mapping\): visual_encoder.model.blocks.0.'
            r'attn.q_bias'):
        convert_alpro_visual(dict(student, **{'visual_encoder.model.blocks.0.attn.q_bias': torch.zeros(1)}))
    with pytest.raises(KeyError, match="no key of the state dict starts with 'visual_encoder.model.'"):
        convert_alpro_visual({'temp': torch.tensor(0.07)})
