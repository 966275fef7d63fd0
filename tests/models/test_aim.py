"""AIM as a whole: what trains, what the optimizer holds, official checkpoints (aim.md §3) converted by
``tools/convert/convert.py aim`` and loaded strictly, and a tiny AIM that learns on the synthetic set.

The official key list is written here from the table of aim.md §3.1, without the official code.
"""
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from videoalign.models.converters import convert_aim
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, run_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'aim', 'vit-b16_k400.py')
CONFIG_L14 = osp.join(REPO_ROOT, 'configs', 'aim', 'vit-l14_k400.py')
CONVERTER = ['tools/convert/convert.py', 'aim']

# what AIM trains (aim.md §4), written as full names rather than the config's substrings
TRAINABLE = re.compile(r'^backbone\.temporal_embedding$|^backbone\.ln_post\.(weight|bias)$|'
                       r'^backbone\.transformer\.resblocks\.\d+\.(t_adapter_in|t_adapter|s_adapter|mlp_adapter)\.'
                       r'(down_proj|up_proj)\.(weight|bias)$|^cls_head\.fc_cls\.(weight|bias)$')

# videoalign name -> official name, for one dotted component (the inverse of the converter, written independently)
TO_OFFICIAL = {
    't_adapter_in': 'T_Adapter_in',
    't_adapter': 'T_Adapter',
    's_adapter': 'S_Adapter',
    'mlp_adapter': 'MLP_Adapter',
    'down_proj': 'D_fc1',
    'up_proj': 'D_fc2',
}
TINY = dict(width=64, layers=2, patch=8, grid=4, num_frames=4, num_classes=5)


def official_key_shapes(width: int = 768,
                        layers: int = 12,
                        patch: int = 16,
                        grid: int = 14,
                        num_frames: int = 8,
                        num_classes: int = 400,
                        num_tadapter: int = 1) -> 'OrderedDict':
    """Keys and shapes of an official AIM recognizer, as listed in aim.md §3.1 (defaults: B/16, T=8, K400)."""
    shapes = OrderedDict()
    shapes['backbone.class_embedding'] = (width, )
    shapes['backbone.positional_embedding'] = (grid * grid + 1, width)
    shapes['backbone.temporal_embedding'] = (1, num_frames, width)
    shapes['backbone.conv1.weight'] = (width, 3, patch, patch)
    shapes['backbone.ln_pre.weight'] = (width, )
    shapes['backbone.ln_pre.bias'] = (width, )
    adapters = ['MLP_Adapter', 'S_Adapter', 'T_Adapter'] + (['T_Adapter_in'] if num_tadapter == 2 else [])
    hidden = width // 4
    for i in range(layers):
        block = f'backbone.transformer.resblocks.{i}'
        shapes[f'{block}.attn.in_proj_weight'] = (3 * width, width)
        shapes[f'{block}.attn.in_proj_bias'] = (3 * width, )
        shapes[f'{block}.attn.out_proj.weight'] = (width, width)
        shapes[f'{block}.attn.out_proj.bias'] = (width, )
        for norm in ('ln_1', 'ln_2'):
            shapes[f'{block}.{norm}.weight'] = (width, )
            shapes[f'{block}.{norm}.bias'] = (width, )
        shapes[f'{block}.mlp.c_fc.weight'] = (4 * width, width)
        shapes[f'{block}.mlp.c_fc.bias'] = (4 * width, )
        shapes[f'{block}.mlp.c_proj.weight'] = (width, 4 * width)
        shapes[f'{block}.mlp.c_proj.bias'] = (width, )
        for adapter in adapters:
            shapes[f'{block}.{adapter}.D_fc1.weight'] = (hidden, width)
            shapes[f'{block}.{adapter}.D_fc1.bias'] = (hidden, )
            shapes[f'{block}.{adapter}.D_fc2.weight'] = (width, hidden)
            shapes[f'{block}.{adapter}.D_fc2.bias'] = (width, )
    shapes['backbone.ln_post.weight'] = (width, )
    shapes['backbone.ln_post.bias'] = (width, )
    shapes['cls_head.fc_cls.weight'] = (num_classes, width)
    shapes['cls_head.fc_cls.bias'] = (num_classes, )
    return shapes


def to_official(state_dict: dict) -> 'OrderedDict':
    return OrderedDict(('.'.join(TO_OFFICIAL.get(part, part) for part in key.split('.')), value.clone())
                       for key, value in state_dict.items())


def save_official(path: str, state_dict: dict) -> str:
    """Write a file of the official mmcv layout (aim.md §3.2)."""
    torch.save(
        {
            'meta': {
                'mmcv_version': '1.4.0',
                'time': 'Thu Feb 23 10:00:00 2023',
                'config': 'model = dict()',
                'epoch': 30,
                'iter': 1000
            },
            'state_dict': state_dict,
            'optimizer': {
                'state': {},
                'param_groups': [{
                    'lr': 3e-4,
                    'weight_decay': 0.05,
                    'params': [0, 1]
                }]
            },
            'amp': {
                'loss_scaler0': {
                    'loss_scale': 65536.0,
                    'unskipped': 0
                }
            },
        }, path)
    return path


def tiny_aim(num_tadapter: int = 1, seed: int = 0):
    """The model of configs/aim/vit-b16_k400.py at the 'tiny' CLIP size, without CLIP weights."""
    model_cfg = Config.fromfile(CONFIG).model
    model_cfg.backbone.update(arch='tiny', num_frames=TINY['num_frames'], init_cfg=None)
    model_cfg.backbone.block_cfg.num_tadapter = num_tadapter
    model_cfg.cls_head.update(in_channels=TINY['width'], num_classes=TINY['num_classes'])
    init_default_scope('videoalign')
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def randomise(model: torch.nn.Module, seed: int = 2) -> None:
    """Non-trivial weights everywhere (the adapters' up_proj and the temporal embedding start at zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() == 1 and 'ln' in name and name.endswith('weight'):
                param.copy_(1 + 0.2 * torch.randn(param.shape, generator=gen))
            elif param.dim() == 1:
                param.copy_(0.3 * torch.randn(param.shape, generator=gen))
            else:
                param.copy_(torch.randn(param.shape, generator=gen) * param.shape[-1]**-0.5)


def tiny_inputs(batch: int = 2, seed: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    size = TINY['patch'] * TINY['grid']
    return torch.randn(batch, 1, 3, TINY['num_frames'], size, size, generator=gen)


# ----------------------------------------------------------------------------------------------------------------
# what trains


def test_gradients_reach_exactly_the_trainable_parameters():
    model = tiny_aim(num_tadapter=2)  # with T_Adapter_in too
    names = [name for name, _ in model.named_parameters()]
    trainable = {name for name in names if TRAINABLE.match(name)}
    assert len(trainable) == 2 * 4 * 4 + 1 + 2 + 2  # 4 adapters x 4 tensors per block, temporal emb., ln_post, fc
    assert {n for n, p in model.named_parameters() if p.requires_grad} == trainable
    with torch.no_grad():  # a zero up_proj would give its down_proj a zero gradient
        for name, param in model.named_parameters():
            if 'up_proj' in name:
                param.normal_(std=0.1)
    model.train()
    samples = [ActionDataSample().set_gt_label(i % TINY['num_classes']) for i in range(3)]
    losses = model.loss(tiny_inputs(batch=3), samples)
    losses['loss_cls'].backward()
    for name, param in model.named_parameters():
        if name in trainable:
            assert param.grad is not None and param.grad.abs().sum() > 0, f'no gradient for {name}'
        else:
            assert param.grad is None, f'frozen {name} got a gradient'


def _groups_by_name(model, optim_wrapper) -> dict:
    names = {id(p): n for n, p in model.named_parameters()}
    # the optimizer's own groups (OptimWrapper.param_groups adds one that tracks the base lr)
    return {
        names[id(p)]: (group['lr'], group['weight_decay'])
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }


def test_optimizer_holds_exactly_the_trainable_parameters():
    model = tiny_aim()
    init_default_scope('videoalign')
    groups = _groups_by_name(model, build_optim_wrapper(model, Config.fromfile(CONFIG).optim_wrapper))
    assert set(groups) == {n for n, _ in model.named_parameters() if TRAINABLE.match(n)}
    for name, (lr, weight_decay) in groups.items():
        assert lr == pytest.approx(3e-4)
        # mmcv's custom_keys of the official config: no decay for ln_post; the temporal embedding and the adapter
        # biases decay (the official constructor ignores no_weight_decay())
        assert weight_decay == (0. if '.ln_post.' in name else pytest.approx(0.05)), name
    assert groups['backbone.temporal_embedding'][1] == pytest.approx(0.05)

    # ViT-L/14: lr x0.1 for the whole backbone (adapters included), not for the head
    model_cfg = Config.fromfile(CONFIG_L14).optim_wrapper
    groups = _groups_by_name(model, build_optim_wrapper(model, model_cfg))
    for name, (lr, weight_decay) in groups.items():
        assert lr == pytest.approx(3e-4 if name.startswith('cls_head.') else 3e-5), name
    assert groups['backbone.ln_post.weight'] == (pytest.approx(3e-5), 0.)  # official: decay 0.05 (README)


# ----------------------------------------------------------------------------------------------------------------
# official checkpoints


@pytest.fixture(scope='module')
def full_model():
    init_default_scope('videoalign')
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model)


def test_official_key_list_converts_to_the_full_model(full_model):
    shapes = official_key_shapes()
    assert len(shapes) == 298  # aim.md §3.1
    assert sum('Adapter' in k for k in shapes) == 12 * 12
    official = OrderedDict((k, torch.empty(s, device='meta')) for k, s in shapes.items())
    converted = convert_aim({'meta': {}, 'state_dict': official, 'optimizer': {}})
    ours = full_model.state_dict()
    assert list(converted) == [k for k in converted if k in ours] and set(converted) == set(ours)
    assert all(tuple(converted[k].shape) == tuple(v.shape) for k, v in ours.items())
    assert converted['backbone.transformer.resblocks.11.mlp_adapter.up_proj.weight'].shape == (768, 192)
    assert 'backbone.transformer.resblocks.0.t_adapter.down_proj.bias' in converted


def test_tiny_round_trip_through_the_tool(tmp_path):
    source = tiny_aim(num_tadapter=2)
    randomise(source)
    source.eval()
    official = to_official(source.state_dict())
    expected_shapes = official_key_shapes(**TINY, num_tadapter=2)
    assert {k: tuple(v.shape) for k, v in official.items()} == dict(expected_shapes)

    src = save_official(str(tmp_path / 'vit_b_clip_8frame_k400.pth'), official)
    dst = tmp_path / 'converted' / 'aim_tiny.pth'
    run_tool(['python', *CONVERTER, src, str(dst)])
    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['converter'] == 'aim'
    target = tiny_aim(num_tadapter=2, seed=1).eval()
    result = target.load_state_dict(checkpoint['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys

    inputs = tiny_inputs()
    with torch.no_grad():
        expected = source(inputs, mode='tensor', stage='head')
        logits = target(inputs, mode='tensor', stage='head')
    assert logits.shape == (2, TINY['num_classes'])
    assert expected.std() > 0.1  # not a degenerate model
    assert torch.equal(logits, expected)

    # a bare state dict with DDP's module. prefix converts the same
    bare = convert_aim(OrderedDict(('module.' + k, v) for k, v in official.items()))
    assert list(bare) == list(checkpoint['state_dict'])


def test_unknown_key_raises(tmp_path):
    official = OrderedDict((k, torch.zeros(s)) for k, s in official_key_shapes(**TINY).items())
    official['neck.fc.weight'] = torch.zeros(3)
    with pytest.raises(KeyError, match='neck.fc.weight'):
        convert_aim({'state_dict': official})

    src = save_official(str(tmp_path / 'extra_key.pth'), official)
    proc = run_tool(['python', *CONVERTER, src, str(tmp_path / 'out.pth')], check=False)
    assert proc.returncode != 0
    assert 'neck.fc.weight' in proc.stderr
    assert not osp.exists(tmp_path / 'out.pth')


# ----------------------------------------------------------------------------------------------------------------
# training


def test_tiny_aim_trains_and_loss_falls(tiny_synthetic, tmp_path):
    """The recipe of configs/aim/vit-b16_k400.py (optimizer, schedule, freezing) on a tiny model and 32 px clips.

    With a frozen random backbone only the adapters, the temporal embedding, ln_post and the head learn, which is
    slow; one clip per class (so that learning the class frequencies gains nothing) for 30 epochs shows it.
    """
    ann_file = str(tmp_path / 'one_per_class.txt')
    lines, seen = [], set()
    with open(f'{tiny_synthetic}/synthetic_train_list_videos.txt') as f:
        for line in f:
            if line.split()[1] not in seen:
                seen.add(line.split()[1])
                lines.append(line)
    assert len(lines) == 10
    with open(ann_file, 'w') as f:
        f.writelines(lines)

    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.update(arch='tiny', init_cfg=None)
    cfg.model.cls_head.update(in_channels=64, num_classes=10)
    pipeline = [
        dict(type='DecordInit', io_backend='disk'),
        dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]
    cfg.train_dataloader.update(batch_size=10, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(
        ann_file=ann_file,
        data_prefix=dict(video=f'{tiny_synthetic}/videos'),
        pipeline=pipeline,
        class_names=f'{tiny_synthetic}/label_map.txt')
    cfg.train_cfg.max_epochs = 30  # as the schedule: warm-up for 2.5 epochs, cosine over 30
    cfg.optim_wrapper.optimizer.lr = 1e-2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=30)
    cfg.log_processor.window_size = 1  # log each iteration's loss, not a running mean
    cfg.randomness = dict(seed=0)
    config = str(tmp_path / 'aim_tiny.py')
    cfg.dump(config)

    work_dir = str(tmp_path / 'work')
    proc = run_tool(['python', 'tools/train.py', config, '--work-dir', work_dir, '--no-validate'])
    losses = [float(x) for x in re.findall(r'Epoch\(train\) +\[\d+\]\[\s*\d+/\d+\].* loss: ([0-9.]+)', proc.stdout)]
    assert len(losses) == 30, proc.stdout[-3000:]  # 1 iteration x 30 epochs
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.3, f'loss did not fall: {losses}'
    assert osp.isfile(osp.join(work_dir, 'epoch_30.pth'))
