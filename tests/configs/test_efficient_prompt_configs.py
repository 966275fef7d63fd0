"""The Efficient-Prompt configs: they load and build, train exactly 3,200,000 parameters at ViT-B/16, and follow the
released HMDB51 recipe (efficient_prompt.md §4)."""
import copy
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT
from videoalign.utils import check_config_keys

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'efficient_prompt')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
_MODELS = {}  # built models, by their structure (the class names do not change it)


def load(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def build(cfg: Config):
    """The config's model (it builds without the dataset's files); models of the same structure are built once."""
    model_cfg = copy.deepcopy(cfg.model)
    key = repr(model_cfg.to_dict())
    if key not in _MODELS:
        init_default_scope('videoalign')
        _MODELS[key] = MODELS.build(model_cfg)
    return _MODELS[key]


def test_all_configs_are_tested():
    assert [osp.basename(p) for p in CONFIGS] == [
        'vit-b16-16f_hmdb51-5shot.py', 'vit-b16-16f_hmdb51-features.py', 'vit-b16-16f_hmdb51.py', 'vit-b16-16f_k400.py',
        'vit-b16-16f_ucf101-5shot.py', 'vit-b16-16f_ucf101.py', 'vit-b16-16f_zeroshot-hmdb51-seen.py',
        'vit-b16-16f_zeroshot-hmdb51-unseen.py', 'vit-b16-16f_zeroshot-ucf101-seen.py',
        'vit-b16-16f_zeroshot-ucf101-unseen.py'
    ]


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_with_3_2m_trainable_parameters(path):
    cfg = Config.fromfile(path)
    check_config_keys(cfg)
    assert cfg.default_scope == 'videoalign'
    model = build(cfg)
    trainable = {name: p.numel() for name, p in model.named_parameters() if p.requires_grad}
    # 1-layer 8-head temporal transformer 3,152,384 + temporal embedding 8,192 + 77 x 512 prompt table 39,424
    assert sum(trainable.values()) == 3200000
    assert sum(v for k, v in trainable.items() if k.startswith('neck.')) == 3152384 + 8192
    assert trainable['cls_head.prompt.embedding.weight'] == 39424
    assert set(trainable) == {k for k, _ in model.named_parameters() if k.startswith(('neck.', 'cls_head.prompt.'))}
    total = sum(p.numel() for p in model.parameters())
    # the frozen CLIP: text tower 63,428,096 and, unless features are read, the image encoder 86,192,640
    assert total == (66628096 if path.endswith('-features.py') else 152820736)
    assert cfg.model.cls_head.average_clips == 'prob'
    assert cfg.test_dataloader.dataset.pipeline[1] == dict(type='RandomStrideSample', clip_len=16, num_clips=5)


def test_released_hmdb51_recipe():
    cfg = load('vit-b16-16f_hmdb51.py')
    assert cfg.model.neck == dict(type='TemporalTransformer', num_frames=16, embed_dims=512, num_layers=1, num_heads=8)
    assert cfg.model.cls_head.prompt == dict(type='LearnablePrompt', prefix=16, postfix=16)
    assert cfg.model.cls_head.temperature == 0.07 and 'num_classes' not in cfg.model.cls_head  # from the data
    assert 'out_type' not in cfg.model.backbone and cfg.model.backbone.use_proj
    assert cfg.model.backbone.init_cfg.type == 'CLIPPretrained'
    assert cfg.model.data_preprocessor.mean == pytest.approx([0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255])
    assert cfg.model.data_preprocessor.std == pytest.approx([0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255])
    train = cfg.train_dataloader
    assert (train.batch_size, train.drop_last, cfg.train_cfg.max_epochs) == (64, True, 20)  # 55 x 20 = 1,100 its
    assert cfg.train_cfg.val_interval == 1 and cfg.param_scheduler is None
    assert [t['type'] for t in train.dataset.pipeline] == [
        'DecordInit', 'RandomStrideSample', 'DecordDecode', 'Resize', 'CenterCrop', 'FormatShape', 'PackActionInputs'
    ]

    model = build(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = optim_wrapper.optimizer.param_groups
    assert type(optim_wrapper.optimizer).__name__ == 'AdamW'
    assert all(g['lr'] == 1e-4 and g['weight_decay'] == 0.01 and g['betas'] == (0.9, 0.999) for g in groups)
    assert sum(p.numel() for g in groups for p in g['params'] if p.requires_grad) == 3200000


def test_features_variant_has_the_same_neck_and_head():
    video, features = load('vit-b16-16f_hmdb51.py'), load('vit-b16-16f_hmdb51-features.py')
    assert features.model.backbone == dict(type='torch.nn.Identity')
    assert features.model.neck == video.model.neck and features.model.cls_head == video.model.cls_head
    assert features.optim_wrapper == video.optim_wrapper and features.train_cfg == video.train_cfg
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert features[loader].dataset.ann_file == video[loader].dataset.ann_file
        assert features[loader].dataset.data_prefix.video == 'data/hmdb51/clip_features_vit-b16'
        assert [t['type'] for t in features[loader].dataset.pipeline
                ] == ['LoadFrameFeatures', 'RandomStrideSample', 'FrameFeatureDecode', 'PackActionInputs']


@pytest.mark.parametrize('data', ['hmdb51', 'ucf101'])
def test_zero_shot_pairs_switch_class_names_and_test_list(data):
    train = load(f'vit-b16-16f_zeroshot-{data}-seen.py')
    test = load(f'vit-b16-16f_zeroshot-{data}-unseen.py')
    split = f'data/{data}/zeroshot_split_0'
    for loader in ('train', 'val', 'test'):  # the class names are the datasets'
        assert train[f'{loader}_dataloader'].dataset.class_names == f'{split}/seen_classes.txt'
    assert train.train_dataloader.dataset.ann_file == f'{split}/{data}_train_split_1_videos_seen.txt'
    assert test.test_dataloader.dataset.class_names == f'{split}/unseen_classes.txt'
    assert test.test_dataloader.dataset.ann_file == f'{split}/{data}_val_split_1_videos_unseen.txt'
    # only the class names and the test list differ: a checkpoint of the training config loads as it is
    assert train.model == test.model
    assert test.train_dataloader == train.train_dataloader


@pytest.mark.parametrize('name, base', [('vit-b16-16f_hmdb51-5shot.py', 'vit-b16-16f_hmdb51.py'),
                                        ('vit-b16-16f_ucf101-5shot.py', 'vit-b16-16f_ucf101.py')])
def test_few_shot_configs_draw_5_videos_per_class(name, base):
    few, full = load(name), load(base)
    assert few.train_dataloader.dataset.num_shots == 5 and 'num_shots' not in full.train_dataloader.dataset
    assert 'num_shots' not in few.test_dataloader.dataset
    assert few.model == full.model
