"""Every DualPath config builds its full-size model, with the trainable set of the official freezing rule."""
import glob
import os.path as osp
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'dualpath', '*.py')))
# dataset -> (classes, total batch of the official command (K400: videoalign's choice), blr, epochs, test views)
RECIPES = {
    'k400': (400, 128, 7e-4, 30, (3, 'CenterCrop')),
    'hmdb51': (51, 96, 0.03, 50, (3, 'CenterCrop')),
    'diving48': (48, 129, 7e-4, 50, (3, 'CenterCrop')),
    'sthv2': (174, 86, 5e-4, 60, (1, 'ThreeCrop')),
}
GPUS = {'k400': 8, 'hmdb51': 3, 'diving48': 3, 'sthv2': 2}
# (arch, classes) -> (total, trainable) parameters
COUNTS = {
    ('ViT-B/16', 400): (104_826_256, 18_785_680),
    ('ViT-B/16', 51): (104_647_219, 18_606_643),
    ('ViT-B/16', 48): (104_645_680, 18_605_104),
    ('ViT-B/16', 174): (104_710_318, 18_669_742),
    ('ViT-L/14', 400): (368_785_552, 65_083_536),
    ('ViT-L/14', 51): (368_517_171, 64_815_155),
    ('ViT-L/14', 48): (368_514_864, 64_812_848),
    ('ViT-L/14', 174): (368_611_758, 64_909_742),
}


def test_all_configs_are_here():
    names = {osp.basename(p) for p in CONFIGS}
    assert names == {f'vit-{size}-16f_{data}.py' for size in ('b16', 'l14') for data in RECIPES}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_at_full_size(path):
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    data = osp.basename(path)[:-3].split('_')[-1]
    classes, batch, blr, epochs, (clips, crop) = RECIPES[data]
    # the recipe
    assert cfg.train_dataloader.batch_size * GPUS[data] == batch == cfg.auto_scale_lr.base_batch_size
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(blr * batch / 256)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05 and cfg.optim_wrapper.clip_grad is None
    assert cfg.train_cfg.max_epochs == epochs and cfg.param_scheduler[0].end == 3
    assert cfg.param_scheduler[1].end == epochs and cfg.param_scheduler[1].T_max == epochs - 3
    train = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert ('Flip' in train) == (data != 'sthv2')
    assert ('RandomErasing' in train) == (data != 'k400')
    test = cfg.test_dataloader.dataset.pipeline
    assert test[1].clip_len == 16 and test[1].num_clips == clips and test[4].type == crop
    assert cfg.model.cls_head.average_clips == 'score'
    # the model; its random values are not checked here, and skipping the uniform draws of nn.Linear /
    # nn.MultiheadAttention initialisation saves most of the build time (300M parameters for ViT-L/14)
    init_default_scope('videoalign')
    with mock.patch.object(torch.Tensor, 'uniform_', lambda self, *args, **kwargs: self):
        model = MODELS.build(cfg.model)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert (total, trainable) == COUNTS[(cfg.model.backbone.arch, classes)]
    assert model.cls_head.linear2.out_features == classes
    assert model.backbone.num_grids == 1 and model.backbone.num_images == 9
    if cfg.model.backbone.arch == 'ViT-B/16' and classes == 400:
        # dualpath.md §2.6: 18.83M trained by the official code, 39,424 of them the unused text positional embedding
        assert round(trainable / 1e6, 2) == 18.79 and trainable + 77 * 512 == 18_825_104
