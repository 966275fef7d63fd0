"""The ``alpro_imagenet_vit`` converter: timm's ImageNet ViT to ALPRO's initial TimeSformer, as the official
``load_pretrained_imagenet`` (head dropped, ``attn`` / ``norm1`` copied to ``temporal_attn`` / ``temporal_norm1``,
``time_embed`` and ``temporal_fc`` left to their initial zeros), on random tiny timm-layout state dicts."""
import os.path as osp
from collections import OrderedDict
from typing import Dict

import pytest
import torch
import torch.nn.functional as F

from videoalign.hub import load_metafile
from videoalign.models.backbones import ALPROTimeSformer
from videoalign.models.converters import convert_alpro_imagenet_vit, convert_checkpoint, get_converter
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT

# 32 px frames of 8 px patches (a 4 x 4 grid), width 32, 2 heads, 2 blocks: tests/models/backbones' tiny TimeSformer
TINY = dict(img_size=32, patch_size=8, embed_dims=32, num_heads=2, num_transformer_layers=2)
GRID, WIDTH, HEADS, DEPTH, CLASSES = 4, 32, 2, 2, 10
VIT_BLOCK = (('norm1', (WIDTH, )), ('attn.qkv', (3 * WIDTH, WIDTH)), ('attn.proj', (WIDTH, WIDTH)),
             ('norm2', (WIDTH, )), ('mlp.fc1', (4 * WIDTH, WIDTH)), ('mlp.fc2', (WIDTH, 4 * WIDTH)))


def random_timm_vit_state(seed: int = 0) -> Dict[str, torch.Tensor]:
    """A random state dict in timm's ``VisionTransformer`` layout (the tiny sizes), non-zero everywhere."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * 0.2

    state = OrderedDict(
        cls_token=rand(1, 1, WIDTH),
        pos_embed=rand(1, 1 + GRID * GRID, WIDTH),
        **{
            'patch_embed.proj.weight': rand(WIDTH, 3, 8, 8),
            'patch_embed.proj.bias': rand(WIDTH)
        })
    for i in range(DEPTH):
        for name, shape in VIT_BLOCK:
            weight = rand(*shape) + (1. if len(shape) == 1 else 0.)  # LayerNorm weights around 1
            state[f'blocks.{i}.{name}.weight'] = weight
            state[f'blocks.{i}.{name}.bias'] = rand(shape[0])
    state.update({
        'norm.weight': rand(WIDTH) + 1.,
        'norm.bias': rand(WIDTH),
        'head.weight': rand(CLASSES, WIDTH),
        'head.bias': rand(CLASSES)
    })
    return state


def plain_vit_tokens(sd: Dict[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
    """timm's ``VisionTransformer.forward_features`` (eval) with plain tensors: the normed CLS and patch tokens."""
    x = F.conv2d(image, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=8).flatten(2).transpose(1, 2)
    x = torch.cat([sd['cls_token'].expand(x.shape[0], -1, -1), x], dim=1) + sd['pos_embed']
    b, n, c = x.shape
    for i in range(DEPTH):
        p = f'blocks.{i}.'
        h = F.layer_norm(x, (c, ), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], eps=1e-6)
        qkv = F.linear(h, sd[p + 'attn.qkv.weight'], sd[p + 'attn.qkv.bias'])
        q, k, v = qkv.reshape(b, n, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * (c // HEADS)**-0.5).softmax(dim=-1)
        x = x + F.linear(
            (attn @ v).transpose(1, 2).reshape(b, n, c), sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
        h = F.layer_norm(x, (c, ), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], eps=1e-6)
        h = F.gelu(F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias']))
        x = x + F.linear(h, sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    return F.layer_norm(x, (c, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)


def _tiny(num_frames: int = 2) -> ALPROTimeSformer:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ALPROTimeSformer', num_frames=num_frames, **TINY))
    model.init_weights()  # mmaction2's: time_embed and temporal_fc zero
    return model.eval()


def _temporal_fc_keys(model: torch.nn.Module) -> list:
    return [k for k in model.state_dict() if '.temporal_fc.' in k]


def test_keys_load_as_the_official_loader():
    model = _tiny()
    converted = convert_alpro_imagenet_vit(random_timm_vit_state())
    assert not any(k.startswith('head.') or k == 'time_embed' or '.temporal_fc.' in k for k in converted)
    result = model.load_state_dict(converted, strict=False)
    assert sorted(result.missing_keys) == sorted(['time_embed'] + _temporal_fc_keys(model))
    assert len(result.missing_keys) == 1 + 2 * DEPTH and result.unexpected_keys == []
    assert torch.count_nonzero(model.time_embed) == 0
    assert all(torch.count_nonzero(v) == 0 for k, v in model.state_dict().items() if '.temporal_fc.' in k)


def test_temporal_attention_and_norm_are_the_spatial_ones():
    vit = random_timm_vit_state()
    converted = convert_alpro_imagenet_vit({'model': vit})  # a wrapped file
    model = _tiny()
    model.load_state_dict(converted, strict=False)
    for i, layer in enumerate(model.transformer_layers.layers):
        temporal, spatial = layer.attentions[0], layer.attentions[1]
        for a, b in ((temporal.attn.in_proj_weight, spatial.attn.in_proj_weight), (temporal.attn.in_proj_bias,
                                                                                   spatial.attn.in_proj_bias),
                     (temporal.attn.out_proj.weight, spatial.attn.out_proj.weight), (temporal.attn.out_proj.bias,
                                                                                     spatial.attn.out_proj.bias),
                     (temporal.norm.weight, spatial.norm.weight), (temporal.norm.bias, spatial.norm.bias)):
            assert torch.equal(a, b)
        assert torch.equal(spatial.attn.in_proj_weight, vit[f'blocks.{i}.attn.qkv.weight'])
        assert torch.equal(temporal.norm.weight, vit[f'blocks.{i}.norm1.weight'])
        assert torch.equal(layer.ffns[0].layers[1].weight, vit[f'blocks.{i}.mlp.fc2.weight'])
    assert torch.equal(model.patch_embed.projection.weight, vit['patch_embed.proj.weight'])
    assert torch.equal(model.pos_embed, vit['pos_embed']) and torch.equal(model.norm.bias, vit['norm.bias'])


def test_one_frame_is_the_image_vit():
    """With T = 1, time_embed and temporal_fc zero, the TimeSformer's CLS and patch tokens are the ViT's."""
    vit = random_timm_vit_state(1)
    model = _tiny(num_frames=1)
    model.load_state_dict(convert_alpro_imagenet_vit(vit), strict=False)
    image = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        tokens = model(image.unsqueeze(2)).video_tokens  # (B, C, 1, H, W)
        expected = plain_vit_tokens(vit, image)
    assert tokens.shape == (3, 1 + GRID * GRID, WIDTH)
    torch.testing.assert_close(tokens, expected, rtol=1e-4, atol=1e-5)


def test_plain_vit_reference_is_timm():
    """The plain-tensor ViT above is timm's ``VisionTransformer`` (when timm is installed)."""
    vision_transformer = pytest.importorskip('timm.models.vision_transformer')
    vit = vision_transformer.VisionTransformer(
        img_size=32, patch_size=8, embed_dim=WIDTH, depth=DEPTH, num_heads=HEADS, num_classes=CLASSES).eval()
    state = random_timm_vit_state(2)
    vit.load_state_dict(state, strict=True)
    image = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(vit.forward_features(image), plain_vit_tokens(state, image), rtol=1e-4, atol=1e-5)


def test_unknown_and_missing_keys():
    vit = random_timm_vit_state()
    with pytest.raises(KeyError, match=r'not timm ViT keys \(no mapping\): time_embed, blocks.0.ls1.gamma'):
        convert_alpro_imagenet_vit(
            dict(vit, time_embed=torch.zeros(1, 8, WIDTH), **{'blocks.0.ls1.gamma': vit['norm.bias']}))
    with pytest.raises(KeyError, match='missing timm ViT keys: cls_token'):
        convert_alpro_imagenet_vit({k: v for k, v in vit.items() if k != 'cls_token'})
    with pytest.raises(KeyError, match=r'missing timm ViT keys: blocks\.\*'):
        convert_alpro_imagenet_vit({k: v for k, v in vit.items() if not k.startswith('blocks.')})


def test_registered_and_listed(tmp_path):
    src, dst = str(tmp_path / 'jx_vit.pth'), str(tmp_path / 'converted.pth')
    torch.save(random_timm_vit_state(), src)
    get_converter('alpro_imagenet_vit')
    state = convert_checkpoint('alpro_imagenet_vit', src, dst)
    saved = torch.load(dst, map_location='cpu')
    assert saved['meta']['converter'] == 'alpro_imagenet_vit' and set(saved['state_dict']) == set(state)
    models = load_metafile(osp.join(REPO_ROOT, 'configs', 'pretrained', 'metafile.yml'))[1]
    entry = next(m for m in models if m.name == 'timm/vit-base-p16-224_in1k')
    assert entry.converter == 'alpro_imagenet_vit' and entry.sha256 is None
    assert entry.file_name == 'jx_vit_base_p16_224-80ecf9dd.pth'
