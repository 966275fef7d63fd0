# Fine-tuning of the tiny BEVT (swin-micro-8f_synthetic-pretrain.py) on the synthetic classes, on CPU in minutes:
# mmaction2's SwinTransformer3D of the same size + I3DHead, as the Kinetics-400 recipe (swin-b-32f_k400.py) at 64 px.
# The pretraining checkpoint becomes its initialisation through the bevt_finetune converter:
#   python tools/convert/convert.py bevt_finetune work_dirs/bevt_micro_pretrain/epoch_10.pth \
#       work_dirs/bevt_micro_pretrain/finetune_init.pth
# `--cfg-options load_from=None` trains the same model from scratch (the comparison of configs/bevt/README.md).
_base_ = ['../_base_/datasets/synthetic.py', '../_base_/default_runtime.py']

num_frames = 8
input_size = 64

model = dict(
    type='VideoRecognizer',
    backbone=dict(
        type='SwinTransformer3D',
        arch=dict(embed_dims=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8)),
        patch_size=(2, 4, 4),
        window_size=(2, 2, 2),
        drop_path_rate=0.1,
        pretrained2d=False,
        out_indices=(3, )),
    cls_head=dict(
        type='I3DHead',
        in_channels=128,
        num_classes={{_base_.num_classes}},
        spatial_type='avg',
        dropout_ratio=0.2,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], format_shape='NCTHW'))
# the converted pretraining checkpoint (backbone.* keys; the head is trained from scratch)
load_from = 'work_dirs/bevt_micro_pretrain/finetune_init.pth'

# no flip: the classes include moving left and moving right
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.6, 1.0), aspect_ratio_range=(0.8, 1.25)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

max_epochs = 40
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(decay_mult=dict(relative_position_bias_table=0., norm=0.), no_decay_1d=False),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=5, save_best='acc/top1', rule='greater', max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
