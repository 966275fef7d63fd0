"""X-CLIP as a whole: the parameter counts of the B/16 8-frame model, and official checkpoints (xclip.md §3) converted
by ``tools/convert/convert.py xclip`` and loaded strictly.

The official key list is written here from the table of xclip.md §3.1 (B/16, T=8: 443 keys), without the official
code. A comparison of logits with the official ``XCLIP`` model itself needs ``microsoft/VideoX`` and is not part of
the test suite.
"""
import math
import os.path as osp
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config

from videoalign.models.converters import convert_xclip, load_official_checkpoint
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, run_tool
from videoalign.testing.checkpoints import RunsCode
from videoalign.utils import register_all_modules

CONFIG = osp.join(REPO_ROOT, 'configs', 'xclip', 'vit-b16-8f_k400.py')
CONVERTER = ['tools/convert/convert.py', 'xclip']


class OfficialConfig:
    """Stands in for the yacs ``CfgNode`` that official checkpoints pickle under ``'config'``."""

    def __init__(self) -> None:
        self.MODEL = dict(ARCH='ViT-B/16', FIX_TEXT=True)
        self.DATA = dict(NUM_FRAMES=8)


class CfgNodeLike(dict):
    """Pickles as yacs' ``CfgNode`` does: a dict subclass with an instance ``__dict__`` (protocol 2 writes the items
    with SETITEMS and the ``__dict__`` with BUILD)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__['__immutable__'] = True
        self.__dict__['__new_allowed__'] = False


def official_key_shapes(width: int = 768,
                        layers: int = 12,
                        patch: int = 16,
                        grid: int = 14,
                        embed: int = 512,
                        text_width: int = 512,
                        text_layers: int = 12,
                        context: int = 77,
                        vocab: int = 49408,
                        num_frames: int = 8,
                        mit_layers: int = 1,
                        prompt_layers: int = 2) -> 'OrderedDict':
    """The keys and shapes of an official ``XCLIP`` state dict, as listed in xclip.md §3.1 (defaults: B/16, T=8).

    Returns:
        OrderedDict: ``{key: shape}``.
    """
    shapes = OrderedDict()

    def clip_block(prefix: str, dim: int) -> None:
        shapes[f'{prefix}.attn.in_proj_weight'] = (3 * dim, dim)
        shapes[f'{prefix}.attn.in_proj_bias'] = (3 * dim, )
        shapes[f'{prefix}.attn.out_proj.weight'] = (dim, dim)
        shapes[f'{prefix}.attn.out_proj.bias'] = (dim, )
        shapes[f'{prefix}.ln_1.weight'] = (dim, )
        shapes[f'{prefix}.ln_1.bias'] = (dim, )
        shapes[f'{prefix}.mlp.c_fc.weight'] = (4 * dim, dim)
        shapes[f'{prefix}.mlp.c_fc.bias'] = (4 * dim, )
        shapes[f'{prefix}.mlp.c_proj.weight'] = (dim, 4 * dim)
        shapes[f'{prefix}.mlp.c_proj.bias'] = (dim, )
        shapes[f'{prefix}.ln_2.weight'] = (dim, )
        shapes[f'{prefix}.ln_2.bias'] = (dim, )

    # visual stem (6)
    shapes['visual.class_embedding'] = (width, )
    shapes['visual.positional_embedding'] = (grid * grid + 1, width)
    shapes['visual.proj'] = (width, embed)
    shapes['visual.conv1.weight'] = (width, 3, patch, patch)
    shapes['visual.ln_pre.weight'] = (width, )
    shapes['visual.ln_pre.bias'] = (width, )
    # visual blocks: 8 message keys + 12 CLIP keys each
    for i in range(layers):
        block = f'visual.transformer.resblocks.{i}'
        shapes[f'{block}.message_fc.weight'] = (width, width)
        shapes[f'{block}.message_fc.bias'] = (width, )
        shapes[f'{block}.message_ln.weight'] = (width, )
        shapes[f'{block}.message_ln.bias'] = (width, )
        shapes[f'{block}.message_attn.in_proj_weight'] = (3 * width, width)
        shapes[f'{block}.message_attn.in_proj_bias'] = (3 * width, )
        shapes[f'{block}.message_attn.out_proj.weight'] = (width, width)
        shapes[f'{block}.message_attn.out_proj.bias'] = (width, )
        clip_block(block, width)
    # visual tail (2)
    shapes['visual.ln_post.weight'] = (width, )
    shapes['visual.ln_post.bias'] = (width, )
    # MIT (1 + 12 per layer)
    shapes['mit.positional_embedding'] = (1, num_frames, embed)
    for i in range(mit_layers):
        clip_block(f'mit.resblocks.{i}', embed)
    # prompt inputs (3) and generator (3 + 13 per layer)
    shapes['prompts_visual_ln.weight'] = (width, )
    shapes['prompts_visual_ln.bias'] = (width, )
    shapes['prompts_visual_proj'] = (width, embed)
    shapes['prompts_generator.alpha'] = (embed, )
    shapes['prompts_generator.norm.weight'] = (embed, )
    shapes['prompts_generator.norm.bias'] = (embed, )
    for j in range(prompt_layers):
        layer = f'prompts_generator.decoder.{j}'
        for proj in ('q_proj', 'k_proj', 'v_proj', 'proj'):
            shapes[f'{layer}.cross_attn.{proj}.weight'] = (embed, embed)
        shapes[f'{layer}.cross_attn.proj.bias'] = (embed, )
        for norm in ('norm1', 'norm3'):
            shapes[f'{layer}.{norm}.weight'] = (embed, )
            shapes[f'{layer}.{norm}.bias'] = (embed, )
        shapes[f'{layer}.mlp.0.weight'] = (4 * embed, embed)
        shapes[f'{layer}.mlp.0.bias'] = (4 * embed, )
        shapes[f'{layer}.mlp.3.weight'] = (embed, 4 * embed)
        shapes[f'{layer}.mlp.3.bias'] = (embed, )
    # text (6 + 12 per block)
    shapes['token_embedding.weight'] = (vocab, text_width)
    shapes['positional_embedding'] = (context, text_width)
    shapes['ln_final.weight'] = (text_width, )
    shapes['ln_final.bias'] = (text_width, )
    shapes['text_projection'] = (text_width, embed)
    shapes['logit_scale'] = ()
    for i in range(text_layers):
        clip_block(f'transformer.resblocks.{i}', text_width)
    return shapes


def random_official_state_dict(shapes: dict, seed: int = 0) -> 'OrderedDict':
    """Random tensors of the given shapes (float32)."""
    gen = torch.Generator().manual_seed(seed)
    return OrderedDict((key, torch.randn(shape, generator=gen)) for key, shape in shapes.items())


def save_official(path: str, state_dict: dict, config=None) -> str:
    """Write a file of the official layout (xclip.md §3.2)."""
    torch.save(
        {
            'model': state_dict,
            'optimizer': {
                'state': {},
                'param_groups': [{
                    'lr': 8e-6,
                    'params': [0, 1]
                }]
            },
            'lr_scheduler': {
                't_initial': 30
            },
            'max_accuracy': 83.8,
            'epoch': 1,
            'config': OfficialConfig() if config is None else config,
        }, path)
    return path


def convert_with_tool(src: str, dst: str) -> dict:
    """Run the converter CLI and return the converted state dict."""
    run_tool(['python', *CONVERTER, src, dst])
    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['converter'] == 'xclip'
    return checkpoint['state_dict']


# ----------------------------------------------------------------------------------------------------------------
# full size: ViT-B/16, 8 frames


@pytest.fixture(scope='module')
def full_model():
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.model.cls_head.class_names = [f'dummy class {i}' for i in range(400)]
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_official_key_list_matches_xclip_md():
    shapes = official_key_shapes()
    assert len(shapes) == 443
    groups = {
        'visual stem': 6,
        'visual message': 8 * 12,
        'visual clip': 12 * 12,
        'visual tail': 2,
        'mit': 13,
        'prompt inputs': 3,
        'prompt generator': 3 + 13 * 2,
        'text': 6 + 12 * 12,
    }
    assert sum(groups.values()) == 443
    assert sum(k.startswith('visual.transformer.') and '.message_' in k for k in shapes) == groups['visual message']
    assert sum(k.startswith('mit.') for k in shapes) == groups['mit']
    assert sum(k.startswith('prompts_generator.') for k in shapes) == groups['prompt generator']
    # parameter totals of xclip.md §2.6
    numel = {k: math.prod(s) for k, s in shapes.items()}
    assert round(sum(numel.values()) / 1e6, 2) == 194.93
    assert round(sum(v for k, v in numel.items() if k.startswith('visual.')) / 1e6, 2) == 121.65
    assert round(sum(v for k, v in numel.items() if '.message_' in k) / 1e6, 2) == 35.45
    assert round(sum(v for k, v in numel.items() if k.startswith('mit.')) / 1e6, 2) == 3.16
    assert round(sum(v for k, v in numel.items() if k.startswith('prompts')) / 1e6, 2) == 6.70


def test_full_model_parameter_counts(full_model):
    params = dict(full_model.named_parameters())
    total = sum(p.numel() for p in params.values())
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    assert round(total / 1e6, 2) == 194.93
    assert round(trainable / 1e6, 2) == 131.50
    frozen = {name for name, p in params.items() if not p.requires_grad}
    text_encoder = {name for name in params if name.startswith('cls_head.text_encoder.')}
    assert frozen == text_encoder | {'cls_head.logit_scale'}
    assert len(full_model.state_dict()) == 443  # no buffers besides the 443 official tensors


def test_convert_full_size_official_checkpoint(full_model, tmp_path):
    expected = {
        'visual.transformer.resblocks.3.message_fc.weight': 'backbone.transformer.resblocks.3.message_fc.weight',
        'visual.transformer.resblocks.11.message_attn.in_proj_weight':
        'backbone.transformer.resblocks.11.message_attn.in_proj_weight',
        'visual.transformer.resblocks.0.attn.in_proj_weight': 'backbone.transformer.resblocks.0.attn.in_proj_weight',
        'visual.conv1.weight': 'backbone.conv1.weight',
        'visual.positional_embedding': 'backbone.positional_embedding',
        'visual.proj': 'backbone.proj',
        'visual.ln_post.bias': 'backbone.ln_post.bias',
        'mit.positional_embedding': 'neck.positional_embedding',
        'mit.resblocks.0.mlp.c_fc.weight': 'neck.resblocks.0.mlp.c_fc.weight',
        'prompts_visual_proj': 'cls_head.text_prompt.visual_proj',
        'prompts_visual_ln.weight': 'cls_head.text_prompt.visual_ln.weight',
        'prompts_generator.alpha': 'cls_head.text_prompt.alpha',
        'prompts_generator.norm.bias': 'cls_head.text_prompt.norm.bias',
        'prompts_generator.decoder.1.cross_attn.k_proj.weight':
        'cls_head.text_prompt.decoder.1.cross_attn.k_proj.weight',
        'prompts_generator.decoder.0.mlp.3.weight': 'cls_head.text_prompt.decoder.0.mlp.3.weight',
        'transformer.resblocks.0.attn.in_proj_weight':
        'cls_head.text_encoder.transformer.resblocks.0.attn.in_proj_weight',
        'transformer.resblocks.11.ln_2.weight': 'cls_head.text_encoder.transformer.resblocks.11.ln_2.weight',
        'token_embedding.weight': 'cls_head.text_encoder.token_embedding.weight',
        'positional_embedding': 'cls_head.text_encoder.positional_embedding',
        'text_projection': 'cls_head.text_encoder.text_projection',
        'ln_final.weight': 'cls_head.text_encoder.ln_final.weight',
        'logit_scale': 'cls_head.logit_scale',
    }
    official = random_official_state_dict(official_key_shapes())
    src = save_official(str(tmp_path / 'k400_16_8.pth'), official)
    # keep what is checked below, not the 195M values (memory)
    kept = {key: official[key].clone() for key in expected}
    sums = sorted(t.double().sum().item() for t in official.values())
    del official

    converted = convert_with_tool(src, str(tmp_path / 'converted' / 'xclip_vit-b16-8f_k400.pth'))
    assert len(converted) == 443
    # every official tensor landed somewhere, each in exactly one place
    assert sorted(t.double().sum().item() for t in converted.values()) == sums
    result = full_model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    del converted

    state = full_model.state_dict()
    for official_key, our_key in expected.items():
        assert torch.equal(state[our_key], kept[official_key]), (official_key, our_key)


# ----------------------------------------------------------------------------------------------------------------
# reading official files safely; unknown keys

# a small official layout (the converter maps by name, so the size does not matter to it)
SMALL = dict(
    width=64,
    layers=1,
    patch=8,
    grid=2,
    embed=64,
    text_width=64,
    text_layers=1,
    context=8,
    vocab=16,
    num_frames=2,
    mit_layers=1,
    prompt_layers=1)


def test_pickled_code_in_config_does_not_run(tmp_path):
    marker = str(tmp_path / 'code_ran')
    official = random_official_state_dict(official_key_shapes(**SMALL), seed=1)
    src = save_official(str(tmp_path / 'evil.pth'), official, config=RunsCode(marker))

    converted = convert_with_tool(src, str(tmp_path / 'converted.pth'))
    assert not osp.exists(marker)
    assert len(converted) == len(official)
    checkpoint = load_official_checkpoint(src)
    assert not osp.exists(marker)
    assert checkpoint['epoch'] == 1 and checkpoint['model'].keys() == official.keys()

    # the file really runs code when unpickled without care (so the test above means something)
    torch.load(src, map_location='cpu', weights_only=False)
    assert osp.exists(marker)


def test_unknown_key_raises(tmp_path):
    official = random_official_state_dict(official_key_shapes(**SMALL))
    official['unexpected_module.weight'] = torch.zeros(3)
    with pytest.raises(KeyError, match='unexpected_module.weight'):
        convert_xclip({'model': official})

    src = save_official(str(tmp_path / 'extra_key.pth'), official)
    proc = run_tool(['python', *CONVERTER, src, str(tmp_path / 'out.pth')], check=False)
    assert proc.returncode != 0
    assert 'unexpected_module.weight' in proc.stderr
    assert not osp.exists(tmp_path / 'out.pth')


def test_dict_subclass_config_is_read(tmp_path):
    config = CfgNodeLike(MODEL=CfgNodeLike(ARCH='ViT-B/16'), SEED=1024)
    src = str(tmp_path / 'cfgnode.pth')
    torch.save({'model': {'logit_scale': torch.tensor(4.6)}, 'epoch': 1, 'config': config}, src)
    checkpoint = load_official_checkpoint(src)
    assert torch.equal(checkpoint['model']['logit_scale'], torch.tensor(4.6))


# ----------------------------------------------------------------------------------------------------------------
# tiny model: conversion round trip gives identical logits

TINY = dict(
    width=128,
    layers=2,
    patch=8,
    grid=4,
    embed=128,
    text_width=128,
    text_layers=2,
    context=77,
    vocab=49408,
    num_frames=4,
    mit_layers=1,
    prompt_layers=2)
TINY_CLASSES = ['abseiling', 'air drumming', 'passing American football (in game)', "massaging person's head"]

# videoalign key prefix -> official key prefix (the inverse of the converter's mapping, written independently)
TO_OFFICIAL = (
    ('backbone.', 'visual.'),
    ('neck.', 'mit.'),
    ('cls_head.text_prompt.visual_ln.', 'prompts_visual_ln.'),
    ('cls_head.text_prompt.visual_proj', 'prompts_visual_proj'),
    ('cls_head.text_prompt.', 'prompts_generator.'),
    ('cls_head.text_encoder.', ''),
    ('cls_head.logit_scale', 'logit_scale'),
)


def tiny_model():
    register_all_modules()
    arch = dict(
        embed_dim=TINY['embed'],
        vision=dict(
            image_size=TINY['patch'] * TINY['grid'],
            patch_size=TINY['patch'],
            width=TINY['width'],
            layers=TINY['layers'],
            heads=TINY['width'] // 64),
        text=dict(
            context_length=TINY['context'],
            vocab_size=TINY['vocab'],
            width=TINY['text_width'],
            heads=TINY['text_width'] // 64,
            layers=TINY['text_layers']))
    cfg = dict(
        type='Recognizer3D',
        backbone=dict(type='CLIPViT', arch=arch, num_frames=TINY['num_frames'], block_cfg=dict(type='XCLIPBlock')),
        neck=dict(type='MultiframeIntegrationTransformer', num_frames=TINY['num_frames'], embed_dims=TINY['embed']),
        cls_head=dict(
            type='TextPromptHead',
            num_classes=None,
            in_channels=TINY['embed'],
            class_names=TINY_CLASSES,
            text_encoder=dict(type='CLIPTextEncoder', arch=arch),
            text_prompt=dict(
                type='VideoSpecificPrompt',
                embed_dims=TINY['embed'],
                visual_width=TINY['width'],
                num_layers=TINY['prompt_layers'])),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
    return MODELS.build(cfg).eval()


def to_official(state_dict: dict) -> 'OrderedDict':
    out = OrderedDict()
    for key, value in state_dict.items():
        for ours, official in TO_OFFICIAL:
            if key.startswith(ours):
                out[official + key[len(ours):]] = value.clone()
                break
        else:
            raise AssertionError(f'no official name for {key}')
    return out


def test_tiny_round_trip_logits(tmp_path):
    torch.manual_seed(0)
    source = tiny_model()
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for name, p in source.named_parameters():
            if name.endswith('logit_scale'):
                p.fill_(math.log(37.))
            elif p.dim() == 1 and name.endswith('weight'):  # LayerNorm weights
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:  # biases, alpha, class embedding
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * p.shape[-1]**-0.5)

    official = to_official(source.state_dict())
    assert {k: tuple(v.shape) for k, v in official.items()} == dict(official_key_shapes(**TINY))
    src = save_official(str(tmp_path / 'tiny_official.pth'), official)
    converted = convert_with_tool(src, str(tmp_path / 'tiny_converted.pth'))

    torch.manual_seed(1)
    target = tiny_model()
    result = target.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys

    size = TINY['patch'] * TINY['grid']
    inputs = torch.randn(2, 1, 3, TINY['num_frames'], size, size, generator=gen)
    with torch.no_grad():
        expected = source(inputs, mode='tensor', stage='head')
        logits = target(inputs, mode='tensor', stage='head')
    assert logits.shape == (2, len(TINY_CLASSES))
    assert expected.std() > 0.1  # not a degenerate model
    assert torch.equal(logits, expected)
