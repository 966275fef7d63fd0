"""configs/bevt pretraining: the full-size joint recipe builds with the official sizes (109.68M trainable + the
53.79M frozen dVAE), its pipelines build, and its optimizer groups follow the official custom_keys (bevt.md §6)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'bevt')


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


@pytest.fixture(scope='module')
def full():
    init_default_scope('videoalign')
    cfg = load('swin-b-16f_k400-in1k-pretrain.py')
    return cfg, MODELS.build(cfg.model)


def test_full_size_pretrainer(full):
    cfg, model = full
    check_config_keys(cfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = {n: p.numel() for n, p in model.named_parameters() if not p.requires_grad}
    assert trainable == 109_679_048  # the official SwinTransformerBEVT + lm_head (bevt_alpro_build.md)
    assert sum(frozen.values()) == 53_786_240 and all(n.startswith('cls_head.vae_encoder.') for n in frozen)
    assert cfg.train_cfg.type == 'JointEpochBasedTrainLoop'
    assert (cfg.train_dataloader.batch_size, cfg.train_cfg.other_loaders[0].batch_size) == (4, 32)
    assert cfg.optim_wrapper.accumulative_counts == 2 and cfg.optim_wrapper.clip_grad.max_norm == 3.0
    assert cfg.model.backbone.init_cfg[-1].checkpoint == 'videoalign://bevt/swin-b_image-pretrain_in1k'
    assert cfg.model.cls_head.vae_encoder.init_cfg.checkpoint == 'videoalign://dalle/dvae-encoder'


def test_pipelines_build_and_mask_the_official_counts(full):
    cfg, _ = full
    video = Compose(cfg.train_dataloader.dataset.pipeline)
    image = Compose(cfg.train_cfg.other_loaders[0].dataset.pipeline)
    tubes = [t for t in video.transforms if type(t).__name__ == 'TubeMaskGenerator'][0]
    blocks = [t for t in image.transforms if type(t).__name__ == 'BEiTMaskGenerator'][0]
    assert (tubes.num_masking_patches, tubes.temporal_scale, blocks.num_masking_patches) == (98, 2, 98)


def test_parameter_groups(full):
    cfg, model = full
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type=cfg.optim_wrapper.constructor,
            optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer),
            paramwise_cfg=cfg.optim_wrapper.paramwise_cfg))
    optimizer = constructor(model).optimizer
    decay = {id(p): group['weight_decay'] for group in optimizer.param_groups for p in group['params']}
    params = dict(model.named_parameters())
    # mmcv's custom_keys of the official config: no decay on tables and norms; linear biases and the mask token decay
    assert decay[id(params['backbone.layers.2.blocks.3.attn.relative_position_bias_table'])] == 0
    assert decay[id(params['backbone.layers.2.blocks.3.norm1.bias'])] == 0
    assert decay[id(params['backbone.norm.weight'])] == 0
    assert decay[id(params['backbone.layers.2.blocks.3.mlp.fc1.bias'])] == pytest.approx(0.05)
    assert decay[id(params['backbone.mask_token'])] == pytest.approx(0.05)
    assert not any(id(p) in decay for n, p in params.items() if n.startswith('cls_head.vae_encoder.'))
    assert all(group['lr'] == pytest.approx(5e-4) for group in optimizer.param_groups)
