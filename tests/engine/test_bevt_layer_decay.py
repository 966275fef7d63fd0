"""BEVT fine-tuning: every parameter gets the lr and weight decay of the official mmcv 1.x ``custom_keys``.

mmcv 1.x (and mmengine's ``DefaultOptimWrapperConstructor``, which carries its code over) gives a parameter the
settings of the longest key contained in its name, lr_mult and decay_mult together, and applies no other rule. The
configs reproduce this with videoalign's ``MultiplierOptimWrapperConstructor`` by listing every key in both of its
tables; these tests compare the two, parameter by parameter, and pin the cases the official recipe implies
(relative-position tables at the full lr without decay, block norms with decay, the final norm ``norm3``).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import DefaultOptimWrapperConstructor, build_optim_wrapper
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'bevt')
# a Swin with Swin-B's names (depths 2, 2, 18, 2) but 8 channels, built in a moment
TINY_ARCH = dict(embed_dims=8, depths=[2, 2, 18, 2], num_heads=[1, 1, 2, 2])
LR_DECAY = 0.9


def official_k400_keys() -> dict:
    """``paramwise_cfg.custom_keys`` of swin_base_patch244_window877_bevt_finetune_k400.py, with its names.

    The final norm is ``backbone.norm`` there; as a substring it also matches mmaction2's ``backbone.norm3``.
    """
    keys = {
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.),
        'backbone.norm': dict(lr_mult=LR_DECAY, decay_mult=0.),
    }
    top_down = ['backbone.layers.3.blocks.1', 'backbone.layers.3.blocks.0', 'backbone.layers.2.downsample']
    top_down += [f'backbone.layers.2.blocks.{i}' for i in range(17, -1, -1)]
    top_down += [
        'backbone.layers.1.downsample', 'backbone.layers.1.blocks.1', 'backbone.layers.1.blocks.0',
        'backbone.layers.0.downsample', 'backbone.layers.0.blocks.1', 'backbone.layers.0.blocks.0',
        'backbone.patch_embed'
    ]
    for depth, key in enumerate(top_down, start=1):
        keys[key] = dict(lr_mult=LR_DECAY**depth)
    assert keys['backbone.patch_embed'] == dict(lr_mult=LR_DECAY**28) and len(keys) == 32
    return keys


OFFICIAL_SSV2_KEYS = {
    'absolute_pos_embed': dict(decay_mult=0.),
    'relative_position_bias_table': dict(decay_mult=0.),
    'norm': dict(decay_mult=0.),
    'backbone': dict(lr_mult=0.1),
}


def load(name: str) -> Config:
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    cfg.optim_wrapper.type = 'OptimWrapper'  # AmpOptimWrapper needs a GPU; the parameter groups are the same
    return cfg


@pytest.fixture(scope='module')
def tiny_model():
    """The K400 config's recognizer with 8 channels (the parameter names of the full model)."""
    cfg = load('swin-b-32f_k400.py')
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.cls_head.in_channels = 64
    init_default_scope('videoalign')
    return MODELS.build(cfg.model)


def settings(model: torch.nn.Module, optim_wrapper) -> dict:
    """Parameter name -> (lr, weight decay) of an optimizer wrapper's parameter groups."""
    by_id = {}
    for group in optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            assert id(param) not in by_id
            by_id[id(param)] = (group['lr'], group['weight_decay'])
    return {name: by_id[id(param)] for name, param in model.named_parameters()}


def ours(model, name):
    init_default_scope('videoalign')
    return settings(model, build_optim_wrapper(model, load(name).optim_wrapper))


def official(model, name, custom_keys):
    optimizer = load(name).optim_wrapper.optimizer.to_dict()
    constructor = DefaultOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=optimizer), dict(custom_keys=custom_keys))
    return settings(model, constructor(model))


@pytest.mark.parametrize('name,custom_keys', [('swin-b-32f_k400.py', official_k400_keys()),
                                              ('swin-b-32f_sthv2.py', OFFICIAL_SSV2_KEYS)])
def test_every_parameter_as_the_official_custom_keys(tiny_model, name, custom_keys):
    got, expected = ours(tiny_model, name), official(tiny_model, name, custom_keys)
    assert len(got) == 329
    for param_name in expected:
        assert got[param_name] == pytest.approx(expected[param_name], rel=1e-12, abs=0), param_name


def test_k400_layer_decay(tiny_model):
    got = ours(tiny_model, 'swin-b-32f_k400.py')
    lr, wd = 3e-4, 1e-3

    def check(param_name, lr_mult, decay_mult):
        assert got[param_name] == pytest.approx((lr * lr_mult, wd * decay_mult), rel=1e-12, abs=0), param_name

    check('backbone.patch_embed.proj.weight', LR_DECAY**28, 1)
    check('backbone.patch_embed.norm.weight', LR_DECAY**28, 1)  # the patch_embed key, so it decays
    check('backbone.layers.0.blocks.0.attn.qkv.weight', LR_DECAY**27, 1)
    check('backbone.layers.0.blocks.1.mlp.fc1.bias', LR_DECAY**26, 1)  # biases decay
    check('backbone.layers.0.downsample.reduction.weight', LR_DECAY**25, 1)
    check('backbone.layers.0.downsample.norm.bias', LR_DECAY**25, 1)
    check('backbone.layers.2.blocks.1.mlp.fc2.weight', LR_DECAY**20, 1)  # not blocks.1x
    check('backbone.layers.2.blocks.17.mlp.fc1.weight', LR_DECAY**4, 1)
    check('backbone.layers.2.blocks.17.mlp.fc2.bias', LR_DECAY**4, 1)
    check('backbone.layers.2.blocks.17.norm1.weight', LR_DECAY**4, 1)  # block norms keep their weight decay
    check('backbone.layers.3.blocks.0.norm2.bias', LR_DECAY**2, 1)
    check('backbone.layers.3.blocks.1.attn.proj.weight', LR_DECAY, 1)
    for i, depth in enumerate((2, 2, 18, 2)):  # every table: the full lr, no decay, no layer decay
        for j in range(depth):
            check(f'backbone.layers.{i}.blocks.{j}.attn.relative_position_bias_table', 1, 0)
    check('backbone.norm3.weight', LR_DECAY, 0)  # the official `backbone.norm`
    check('backbone.norm3.bias', LR_DECAY, 0)
    check('cls_head.fc_cls.weight', 1, 1)
    check('cls_head.fc_cls.bias', 1, 1)


def test_sthv2_backbone_lr(tiny_model):
    got = ours(tiny_model, 'swin-b-32f_sthv2.py')
    lr, wd = 5e-4, 0.05
    for param_name, value in got.items():
        if param_name.startswith('cls_head.') or param_name.endswith('relative_position_bias_table'):
            expected = (lr, 0.) if 'relative_position' in param_name else (lr, wd)
        else:  # norms and biases included
            expected = (lr * 0.1, wd)
        assert value == pytest.approx(expected, rel=1e-12, abs=0), param_name


def test_constructor_and_wrapper_settings():
    k400, sthv2 = (
        Config.fromfile(osp.join(CONFIG_DIR, n)).optim_wrapper for n in ('swin-b-32f_k400.py', 'swin-b-32f_sthv2.py'))
    for wrapper, counts, lr, wd in ((k400, 4, 3e-4, 1e-3), (sthv2, 8, 5e-4, 0.05)):
        assert wrapper.type == 'AmpOptimWrapper' and wrapper.accumulative_counts == counts
        assert wrapper.optimizer == dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=wd)
        assert wrapper.constructor == 'MultiplierOptimWrapperConstructor'
        assert wrapper.paramwise_cfg.no_decay_1d is False
        assert set(wrapper.paramwise_cfg.lr_mult) == set(wrapper.paramwise_cfg.decay_mult)  # mmcv's coupling
    assert k400.clip_grad == dict(max_norm=40, norm_type=2) and sthv2.clip_grad is None
