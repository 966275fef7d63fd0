"""ALPROTimeSformer: ALPRO's pooled tokens, the official nearest resize on load, activation checkpointing, and the
official key mapping (alpro.md §2.1, §5; bevt_alpro_build.md §3)."""
import math

import pytest
import torch
from mmaction.models.backbones import TimeSformer

from videoalign.models.backbones import ALPROTimeSformer
from videoalign.models.backbones.alpro_timesformer import resize_embed_nearest
from videoalign.models.converters import convert_alpro_visual
from videoalign.registry import MODELS
from videoalign.testing.alpro_reference import (official_temporal_pooling, official_video_tokens,
                                                random_official_visual_state)

# 32 px frames of 8 px patches: a 4 x 4 grid, 1 + 16 = 17 pooled tokens (the analogue of 197 at 224 / 16)
TINY = dict(img_size=32, patch_size=8, embed_dims=32, num_heads=2, num_transformer_layers=2)
GRID, WIDTH, HEADS = 4, 32, 2


def _tiny(num_frames: int = 2, **kwargs) -> ALPROTimeSformer:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ALPROTimeSformer', num_frames=num_frames, **dict(TINY, **kwargs)))
    with torch.no_grad():  # non-zero everywhere (mmaction2 zero-initialises time_embed and temporal_fc)
        for param in model.parameters():
            param.normal_(0, 0.2)
    return model.eval()


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
    torch.testing.assert_close(pooled, official_temporal_pooling(raw['tokens'], num_frames, GRID), rtol=0, atol=0)
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


def test_convert_official_layout_loads_strictly_and_matches_the_official_forward():
    official = random_official_visual_state(4)
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
        torch.testing.assert_close(
            model(x).video_tokens, official_video_tokens(bare, x, HEADS, 8), rtol=1e-4, atol=1e-5)


def test_convert_prefixes_wrappers_and_errors():
    prompter = random_official_visual_state(2, prefix='prompter.visual_encoder.model.')
    student = random_official_visual_state(4)
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
