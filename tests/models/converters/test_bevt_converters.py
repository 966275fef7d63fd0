"""BEVT's converters (bevt.md §2.4, §8, pitfalls 7-9): official-layout files with random weights, converted and
loaded strictly; the relative-position tables checked against independent computations; the DALL-E encoder.

The official key list is derived here from mmaction2's ``SwinTransformer3D`` (its block, merging and patch-embedding
names are the official ``SwinTransformerBEVT`` ones; the official final norm is ``norm``, mmaction2's ``norm3``) plus
the modules the official ``SwinTransformerBEVT`` and ``BEVTMultiSourceHead`` add (bevt.md §2.2, §2.5-2.7), without
the official code.
"""
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Dict, Sequence, Tuple

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from videoalign.hub import load_metafile
from videoalign.models.converters import convert_bevt_finetune, convert_bevt_image, convert_bevt_pretrain, get_converter
from videoalign.models.converters.bevt import (inflate_position_bias_table, interpolate_position_bias_table,
                                               relative_position_index)
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, run_tool

ARCH = dict(embed_dims=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8))
C3, C4 = 64, 128  # the widths of stages 3 and 4
VOCAB = 64  # the tiny DALL-E's codebook, and so lm_head's classes
WINDOW, SSV2_WINDOW = (8, 7, 7), (16, 7, 7)

try:  # written alongside these converters; the tests that need it are skipped until it is importable
    from videoalign.models.algorithms import BEVTPretrainer  # noqa: F401
    PRETRAINER_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the state of the tree
    PRETRAINER_ERROR = f'videoalign.models.algorithms.BEVTPretrainer is not importable yet: {err}'
needs_pretrainer = pytest.mark.skipif(PRETRAINER_ERROR is not None, reason=str(PRETRAINER_ERROR))


def swin3d(window: Sequence[int] = WINDOW) -> torch.nn.Module:
    """mmaction2's Video Swin at the tiny size: the fine-tune backbone."""
    init_default_scope('videoalign')
    return MODELS.build(dict(type='SwinTransformer3D', arch=dict(ARCH), window_size=window, pretrained2d=False))


def tiny_dalle() -> torch.nn.Module:
    return MODELS.build(dict(type='mmpretrain.DALL-E', n_hid=16, vocab_size=VOCAB))


def tiny_pretrainer() -> torch.nn.Module:
    init_default_scope('videoalign')
    return MODELS.build(
        dict(
            type='BEVTPretrainer',
            data_preprocessor=None,
            backbone=dict(type='SwinTransformerBEVT', arch=dict(ARCH), window_size=WINDOW),
            cls_head=dict(
                type='MaskedTokenHead',
                in_channels=C4,
                num_tokens=VOCAB,
                vae_encoder=dict(type='DALLETargetGenerator', n_hid=16, vocab_size=VOCAB))))


def _random(shape: Sequence[int], gen: torch.Generator) -> torch.Tensor:
    return 0.5 * torch.randn(tuple(shape), generator=gen)


def official_joint_state(seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """The state dict of the official ``BEVTMultiSource`` (``SwinTransformerBEVT`` + ``BEVTMultiSourceHead``) at the
    tiny size, random weights, the official relative-position index buffers."""
    gen = torch.Generator().manual_seed(seed)
    backbone = OrderedDict(mask_token=_random((1, 1, ARCH['embed_dims']), gen))
    swin = swin3d().state_dict()
    patch_embed = OrderedDict((k, v) for k, v in swin.items() if k.startswith('patch_embed.'))
    backbone.update((k, _random(v.shape, gen)) for k, v in patch_embed.items())
    backbone['patch_embed_2d.proj.weight'] = _random((ARCH['embed_dims'], 3, 4, 4), gen)
    for name in ('proj.bias', 'norm.weight', 'norm.bias'):
        backbone[f'patch_embed_2d.{name}'] = _random((ARCH['embed_dims'], ), gen)
    for key, value in swin.items():
        if key.startswith('layers.'):
            backbone[key] = value.clone() if key.endswith('relative_position_index') else _random(value.shape, gen)
    backbone['norm.weight'], backbone['norm.bias'] = _random((C4, ), gen), _random((C4, ), gen)
    decoders = {
        'lm_down.weight': (C4, C4 + C3),
        'lm_down.bias': (C4, ),
        'fpn.0.weight': (C4, C4, 2, 2),  # ConvTranspose2d: (in, out, k, k)
        'fpn.0.bias': (C4, ),
        'lm_down_st.0.weight': (C4, C4 + C3),
        'lm_down_st.0.bias': (C4, ),
        'fpn_s.0.weight': (C4, C4, 1, 2, 2),
        'fpn_s.0.bias': (C4, ),
        'fpn_t.0.weight': (C4, C4, 2, 1, 1),
        'fpn_t.0.bias': (C4, ),
    }
    backbone.update((k, _random(shape, gen)) for k, shape in decoders.items())
    state = OrderedDict(('backbone.' + k, v) for k, v in backbone.items())
    state['cls_head.lm_head.weight'] = _random((VOCAB, C4), gen)
    state['cls_head.lm_head.bias'] = _random((VOCAB, ), gen)
    state.update(('cls_head.vae_encoder.' + k, _random(v.shape, gen)) for k, v in tiny_dalle().state_dict().items())
    return state


def save_joint(path: str, state: Dict[str, torch.Tensor], layout: str) -> str:
    """Write an official joint checkpoint: mmcv's file (``layout='mmcv'``) or a DDP state dict (``'ddp'``)."""
    if layout == 'mmcv':
        torch.save({'meta': {'mmcv_version': '1.3.9', 'epoch': 150}, 'state_dict': state, 'optimizer': {}}, path)
    else:
        torch.save(OrderedDict(('module.' + k, v) for k, v in state.items()), path)
    return path


def official_image_state(seed: int = 1, table_window: int = 7) -> 'OrderedDict[str, torch.Tensor]':
    """A 2D Swin of the image stream at the tiny size: 2D patch embedding, 2D tables ``(2w-1)^2 x nH`` with their
    index, shifted-window ``attn_mask`` buffers, ``norm``."""
    gen = torch.Generator().manual_seed(seed)
    side = 2 * table_window - 1
    state = OrderedDict()
    state['patch_embed.proj.weight'] = _random((ARCH['embed_dims'], 3, 4, 4), gen)
    for name in ('proj.bias', 'norm.weight', 'norm.bias'):
        state[f'patch_embed.{name}'] = _random((ARCH['embed_dims'], ), gen)
    for key, value in swin3d().state_dict().items():
        if not key.startswith('layers.'):
            continue
        if key.endswith('relative_position_bias_table'):
            state[key] = _random((side * side, value.shape[1]), gen)
        elif key.endswith('relative_position_index'):
            state[key] = torch.randint(0, side * side, (table_window**2, table_window**2), generator=gen)
            if key.startswith('layers.0.blocks.1.'):
                state[key.replace('attn.relative_position_index', 'attn_mask')] = torch.zeros(64, 49, 49)
        else:
            state[key] = _random(value.shape, gen)
    state['norm.weight'], state['norm.bias'] = _random((C4, ), gen), _random((C4, ), gen)
    return state


def independent_trilinear(table: torch.Tensor, source: Tuple[int, ...], target: Tuple[int, ...]) -> torch.Tensor:
    """Trilinear resizing with half-pixel centres (``align_corners=False``) as three 1-D interpolation matrices."""

    def matrix(n_in: int, n_out: int) -> torch.Tensor:
        m = torch.zeros(n_out, n_in, dtype=torch.float64)
        for i in range(n_out):
            x = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
            lo = min(int(x), n_in - 1)
            hi = min(lo + 1, n_in - 1)
            m[i, lo] += 1 - (x - lo)
            m[i, hi] += x - lo
        return m

    grid = table.double().T.reshape(-1, *source)  # (nH, D, H, W)
    out = torch.einsum('ad,be,cf,hdef->habc', matrix(source[0], target[0]), matrix(source[1], target[1]),
                       matrix(source[2], target[2]), grid)
    return out.reshape(table.shape[1], -1).T.float()


def official_trilinear(table: torch.Tensor, pretrained_window: Sequence[int], window: Sequence[int]) -> torch.Tensor:
    """The official ``SwinTransformer3D.init_weights`` expression, written out."""
    n_heads = table.shape[1]
    d1, s1, d2 = 2 * pretrained_window[0] - 1, 2 * pretrained_window[1] - 1, 2 * window[0] - 1
    resized = F.interpolate(
        table.permute(1, 0).view(1, n_heads, d1, s1, s1),
        size=(d2, 2 * window[1] - 1, 2 * window[2] - 1),
        mode='trilinear')
    return resized.view(n_heads, -1).permute(1, 0)


def strip(state: Dict[str, torch.Tensor], prefix: str = 'backbone.') -> 'OrderedDict[str, torch.Tensor]':
    assert all(k.startswith(prefix) for k in state), [k for k in state if not k.startswith(prefix)][:5]
    return OrderedDict((k[len(prefix):], v) for k, v in state.items())


# ----------------------------------------------------------------------------------------------------------------
# bevt_finetune


@pytest.mark.parametrize('layout', ['mmcv', 'ddp'])
def test_finetune_loads_strictly_into_video_swin(tmp_path, layout):
    official = official_joint_state()
    path = save_joint(str(tmp_path / 'bevt_joint_pretrain.pth'), official, layout)
    state, meta = get_converter('bevt_finetune')(path)
    assert meta == {}
    backbone = swin3d()
    result = backbone.load_state_dict(strip(state), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in backbone.state_dict().items():
        source = 'backbone.' + key.replace('norm3.', 'norm.')
        assert torch.equal(value, official[source]), key  # the index: the official one, recomputed
    # dropped: exactly what the official fine-tune loader ignores (bevt.md pitfall 7)
    kept = {'backbone.' + k.replace('norm3.', 'norm.') for k in backbone.state_dict()}
    dropped = sorted(set(official) - kept)
    assert {k.split('.')[1]
            for k in dropped if k.startswith('backbone.')
            } == {'mask_token', 'patch_embed_2d', 'lm_down', 'fpn', 'lm_down_st', 'fpn_s', 'fpn_t'}
    assert all(k.startswith(('backbone.', 'cls_head.lm_head.', 'cls_head.vae_encoder.blocks.')) for k in dropped)

    # into a recognizer: only its classifier is left
    recognizer = MODELS.build(
        dict(
            type='Recognizer3D',
            backbone=dict(type='SwinTransformer3D', arch=dict(ARCH), window_size=WINDOW, pretrained2d=False),
            cls_head=dict(type='I3DHead', in_channels=C4, num_classes=5)))
    result = recognizer.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == ['cls_head.fc_cls.bias', 'cls_head.fc_cls.weight']
    assert not result.unexpected_keys


def test_finetune_interpolates_the_tables_for_ssv2():
    official = official_joint_state()
    state = convert_bevt_finetune({'state_dict': official}, window_size=list(SSV2_WINDOW))  # a metafile's list
    backbone = swin3d(SSV2_WINDOW)
    result = backbone.load_state_dict(strip(state), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    tables = [k for k in official if k.endswith('relative_position_bias_table')]
    assert len(tables) == sum(ARCH['depths'])
    for key in tables:
        converted = state[key]
        assert converted.shape == (31 * 13 * 13, official[key].shape[1])
        assert torch.equal(converted, official_trilinear(official[key], WINDOW, SSV2_WINDOW)), key  # bit for bit
        torch.testing.assert_close(
            converted, independent_trilinear(official[key], (15, 13, 13), (31, 13, 13)), rtol=1e-5, atol=1e-5)
        # the temporal offsets that exist in both windows keep their values at the ends of the range
        torch.testing.assert_close(converted.view(31, 169, -1)[0], official[key].view(15, 169, -1)[0])
        torch.testing.assert_close(converted.view(31, 169, -1)[-1], official[key].view(15, 169, -1)[-1])
    index = state['backbone.layers.0.blocks.0.attn.relative_position_index']
    assert index.shape == (16 * 49, 16 * 49) and torch.equal(
        index,
        swin3d(SSV2_WINDOW).state_dict()['layers.0.blocks.0.attn.relative_position_index'])
    # the same window as the checkpoint's: the tables as they are
    same = convert_bevt_finetune(official, window_size=WINDOW)
    assert all(torch.equal(same[k], official[k]) for k in tables)


def test_finetune_options_and_errors():
    official = official_joint_state()
    state = convert_bevt_finetune(official, write_position_index=False)
    assert not any(k.endswith('relative_position_index') for k in state)
    result = swin3d().load_state_dict(strip(state), strict=False)
    assert all(k.endswith('relative_position_index') for k in result.missing_keys) and not result.unexpected_keys

    with pytest.raises(KeyError, match=r'not BEVT joint pretraining keys \(no mapping\): neck\.fc\.weight'):
        convert_bevt_finetune(dict(official, **{'neck.fc.weight': torch.ones(1)}))
    broken = OrderedDict((k, v) for k, v in official.items() if 'layers.1.blocks.1.mlp.fc2' not in k)
    with pytest.raises(KeyError, match=r'missing BEVT joint pretraining keys: layers\.1\.blocks\.1\.mlp\.fc2\.weight'):
        convert_bevt_finetune(broken)
    with pytest.raises(ValueError, match='fits neither the pretrained window'):
        convert_bevt_finetune(official, window_size=(16, 7, 7), pretrained_window_size=(4, 7, 7))
    with pytest.raises(ValueError, match='three positive integers'):
        convert_bevt_finetune(official, window_size=16)


def test_convert_tool_end_to_end(tmp_path):
    src = save_joint(str(tmp_path / 'bevt_joint_pretrain.pth'), official_joint_state(), 'mmcv')
    dst = tmp_path / 'ssv2_init.pth'
    proc = run_tool(
        ['python', 'tools/convert/convert.py', 'bevt_finetune', src,
         str(dst), '--options', 'window_size=(16,7,7)'])
    assert 'tensors written to' in proc.stdout
    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['converter'] == 'bevt_finetune'
    assert checkpoint['meta']['converter_options'] == {'window_size': (16, 7, 7)}
    result = swin3d(SSV2_WINDOW).load_state_dict(strip(checkpoint['state_dict']), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


# ----------------------------------------------------------------------------------------------------------------
# bevt_image


@pytest.mark.parametrize('layout', ['encoder', 'backbone-fc_norm'])
def test_image_stream_inflation(tmp_path, layout):
    image = official_image_state()
    if layout == 'encoder':  # e.g. a masked-image-modelling model saved under DDP: module.encoder.*
        extra = {'lm_head.weight': torch.ones(VOCAB, C4), 'mask_token': torch.full((1, 1, 16), 0.5)}
        file = {'model': OrderedDict(('module.encoder.' + k, v) for k, v in dict(image, **extra).items())}
    else:  # a fine-tuned-style file: backbone.*, fc_norm instead of norm (which is then absent), a classifier
        image['fc_norm.weight'], image['fc_norm.bias'] = image.pop('norm.weight'), image.pop('norm.bias')
        file = {'state_dict': OrderedDict(('backbone.' + k, v) for k, v in image.items())}
        file['state_dict']['head.weight'] = torch.ones(1000, C4)
    path = str(tmp_path / 'bevt_image_pretrain.pth')
    torch.save(file, path)
    state = strip(get_converter('bevt_image')(path)[0])

    w2d = image['patch_embed.proj.weight']
    assert torch.equal(state['patch_embed_2d.proj.weight'], w2d)
    for name in ('proj.bias', 'norm.weight', 'norm.bias'):
        assert torch.equal(state[f'patch_embed_2d.{name}'], image[f'patch_embed.{name}'])
        assert torch.equal(state[f'patch_embed.{name}'], image[f'patch_embed.{name}'])
    w3d = state['patch_embed.proj.weight']
    assert w3d.shape == (16, 3, 2, 4, 4)
    assert torch.equal(w3d[:, :, 0], w2d / 2) and torch.equal(w3d[:, :, 1], w2d / 2)
    tables = [k for k in image if k.endswith('relative_position_bias_table')]
    for key in tables:
        assert state[key].shape == (15 * 169, image[key].shape[1])
        assert all(torch.equal(piece, image[key]) for piece in state[key].view(15, 169, -1)), key
    norm = 'norm' if layout == 'encoder' else 'fc_norm'
    assert torch.equal(state['norm.weight'], image[f'{norm}.weight'])
    assert torch.equal(state['norm.bias'], image[f'{norm}.bias'])
    assert not any(k.endswith('attn_mask') for k in state)
    index = relative_position_index(WINDOW)
    assert all(torch.equal(v, index) for k, v in state.items() if k.endswith('relative_position_index'))
    assert ('mask_token' in state) == (layout == 'encoder')  # kept where the file has it, as the official load
    assert not any(k.startswith(('lm_head', 'head', 'fc_norm')) for k in state)

    if PRETRAINER_ERROR is None:
        init_default_scope('videoalign')
        backbone = MODELS.build(dict(type='SwinTransformerBEVT', arch=dict(ARCH), window_size=WINDOW))
        result = backbone.load_state_dict(state, strict=False)
        left = {
            'lm_down.weight', 'lm_down.bias', 'fpn.0.weight', 'fpn.0.bias', 'lm_down_st.0.weight', 'lm_down_st.0.bias',
            'fpn_s.0.weight', 'fpn_s.0.bias', 'fpn_t.0.weight', 'fpn_t.0.bias'
        }
        assert set(result.missing_keys) == left | ({'mask_token'} if layout != 'encoder' else set())
        assert not result.unexpected_keys


def test_image_table_resized_bicubically_then_repeated():
    image = official_image_state(table_window=6)  # 11 x 11 = 121 rows: resized to 13 x 13
    state = strip(convert_bevt_image(image))
    for key in (k for k in image if k.endswith('relative_position_bias_table')):
        heads = image[key].shape[1]
        resized = F.interpolate(image[key].permute(1, 0).view(1, heads, 11, 11), size=(13, 13), mode='bicubic')
        resized = resized.view(heads, 169).permute(1, 0)
        assert all(torch.equal(piece, resized) for piece in state[key].view(15, 169, heads)), key
    table = torch.randn(169, 2)
    assert torch.equal(inflate_position_bias_table(table, (2, 7, 7)), torch.cat([table] * 3))


def test_image_errors_and_options():
    image = official_image_state()
    with pytest.raises(KeyError, match=r'not BEVT image-stream keys \(no mapping\): absolute_pos_embed'):
        convert_bevt_image(dict(image, absolute_pos_embed=torch.zeros(1, 3136, 16)))
    state = convert_bevt_image(dict(image, absolute_pos_embed=torch.zeros(1)), drop_prefixes=['absolute_pos_embed'])
    assert 'backbone.absolute_pos_embed' not in state
    with pytest.raises(KeyError, match=r'missing BEVT image-stream keys: patch_embed\.proj\.weight'):
        convert_bevt_image({k: v for k, v in image.items() if k != 'patch_embed.proj.weight'})
    with pytest.raises(KeyError, match=r'layers\.2\.downsample\.reduction\.weight'):
        convert_bevt_image({k: v for k, v in image.items() if k != 'layers.2.downsample.reduction.weight'})
    with pytest.raises(ValueError, match='is not a 2D patch embedding'):
        convert_bevt_image(strip(convert_bevt_finetune(official_joint_state())))
    state = convert_bevt_image(image, temporal_patch_size=4, write_position_index=False)
    assert state['backbone.patch_embed.proj.weight'].shape == (16, 3, 4, 4, 4)
    assert not any(k.endswith('relative_position_index') for k in state)


# ----------------------------------------------------------------------------------------------------------------
# bevt_pretrain


@pytest.mark.parametrize('layout', ['mmcv', 'ddp'])
def test_pretrain_keeps_the_official_names(tmp_path, layout):
    official = official_joint_state()
    path = save_joint(str(tmp_path / 'bevt_joint_pretrain.pth'), official, layout)
    state = get_converter('bevt_pretrain')(path)[0]
    assert list(state) == list(official)
    assert all(torch.equal(state[k], v) for k, v in official.items())


@needs_pretrainer
def test_pretrain_loads_strictly_into_the_pretrainer():
    official = official_joint_state()
    state = convert_bevt_pretrain(official)
    model = tiny_pretrainer()
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())

    # the fine-tune backbone computes what the pretraining encoder computes before its decoder, with the shared norm
    finetune = swin3d()
    finetune.load_state_dict(strip(convert_bevt_finetune(official)), strict=True)
    model.eval(), finetune.eval()
    clip = torch.randn(1, 3, 4, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        x4 = model.backbone(clip).stage_outputs[-1]  # (B, C, T', H', W'), before the norm
        expected = F.layer_norm(
            x4.permute(0, 2, 3, 4, 1), (C4, ), official['backbone.norm.weight'],
            official['backbone.norm.bias']).permute(0, 4, 1, 2, 3)
        torch.testing.assert_close(finetune(clip), expected, rtol=0, atol=1e-5)


def test_pretrain_errors():
    official = official_joint_state()
    with pytest.raises(KeyError, match=r'missing BEVT joint pretraining keys: backbone\.fpn_t\.0\.bias'):
        convert_bevt_pretrain({k: v for k, v in official.items() if k != 'backbone.fpn_t.0.bias'})
    with pytest.raises(KeyError, match=r'missing BEVT joint pretraining keys: cls_head\.vae_encoder\.blocks\.input'):
        convert_bevt_pretrain({k: v for k, v in official.items() if 'vae_encoder' not in k})
    with pytest.raises(KeyError, match=r'no mapping\): backbone\.pos_embed, cls_head\.fc_cls\.weight'):
        convert_bevt_pretrain(
            dict(official, **{
                'backbone.pos_embed': torch.zeros(1),
                'cls_head.fc_cls.weight': torch.zeros(1)
            }))
    with pytest.raises(KeyError, match=r'missing .*backbone\.layers\.3\.blocks\.0\.attn\.qkv\.weight'):
        convert_bevt_pretrain({k: v for k, v in official.items() if k != 'backbone.layers.3.blocks.0.attn.qkv.weight'})
    with pytest.raises(ValueError, match=r'do not fit the window \(16, 7, 7\)'):
        convert_bevt_pretrain(official, window_size=(16, 7, 7))


# ----------------------------------------------------------------------------------------------------------------
# shared pieces, the metafile, the DALL-E encoder


def test_relative_position_index_and_interpolation_helpers():
    assert torch.equal(
        relative_position_index(WINDOW),
        swin3d().state_dict()['layers.0.blocks.0.attn.'
                              'relative_position_index'])
    index = relative_position_index((2, 3, 3))
    assert index.dtype == torch.int64 and index.shape == (18, 18) and int(index.max()) == 3 * 5 * 5 - 1
    assert int(index[0, 0]) == (3 * 5 * 5 - 1) // 2  # offset zero is the table's centre row
    table = torch.randn(15 * 13 * 13, 3)
    assert interpolate_position_bias_table(table, WINDOW, WINDOW) is table


def test_metafile_entries_name_bevt_converters_with_fitting_options():
    _, models = load_metafile(osp.join(REPO_ROOT, 'configs', 'bevt', 'metafile.yml'))
    converters = {m.name: (m.converter, m.converter_options) for m in models}
    assert converters['bevt/swin-b_joint-pretrain_k400-in1k'] == ('bevt_pretrain', {})
    assert converters['bevt/swin-b_image-pretrain_in1k'] == ('bevt_image', {})
    assert converters['bevt/swin-b_joint-pretrain_k400-in1k_finetune-init'] == ('bevt_finetune', {})
    assert converters['bevt/swin-b_joint-pretrain_k400-in1k_finetune-init-ssv2'] == ('bevt_finetune', {
        'window_size': [16, 7, 7]
    })
    for name, (converter, options) in converters.items():
        if converter is not None:  # the config entries have no weights
            get_converter(converter, options)  # the options bind to the converter's signature
    weights = {m.weights for m in models if m.converter in ('bevt_pretrain', 'bevt_finetune')}
    assert len(weights) == 1  # the three entries convert the same published file


@pytest.mark.filterwarnings("ignore:Couldn't retrieve source code")
def test_dvae_output_loads_strictly_into_mmpretrain_dalle(tmp_path):
    """``encoder.pkl`` is a pickled module with the DALL-E encoder's tree; mmpretrain's encoder has the same tree, so
    a pickled tiny one stands in for it (read inertly: none of its classes is imported to read it)."""
    module = tiny_dalle()
    path = str(tmp_path / 'encoder.pkl')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.save(module, path)
    state, _ = get_converter('dvae')(path)
    target = tiny_dalle()
    result = target.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert all(torch.equal(target.state_dict()[k], v) for k, v in module.state_dict().items())
    # and it is the layout the joint checkpoint holds under cls_head.vae_encoder.
    convert_bevt_pretrain(
        dict(((k, v) for k, v in official_joint_state().items() if 'vae_encoder' not in k), **{
            'cls_head.vae_encoder.' + k: v
            for k, v in state.items()
        }))
