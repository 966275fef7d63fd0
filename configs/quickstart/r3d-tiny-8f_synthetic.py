# The README's quick start: a tiny 3D ResNet trained from scratch on the synthetic dataset, on CPU in minutes.
# It names mmaction2 components (Recognizer3D, ResNet3d, I3DHead) from videoalign's scope.
_base_ = ['../_base_/datasets/synthetic.py', '../_base_/default_runtime.py']

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=18,
        base_channels=16,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(3, 5, 5),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 1, 1, 1),  # keep all 8 frames: the classes differ only in order
        norm_eval=False,
        zero_init_residual=False),
    cls_head=dict(
        type='I3DHead',
        num_classes={{_base_.num_classes}},
        in_channels=128,
        spatial_type='avg',
        dropout_ratio=0.2,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], format_shape='NCTHW'))

max_epochs = 20
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=1e-5,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05), clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=5, save_best='acc/top1', rule='greater', max_keep_ckpts=2))
# check at the end that all ranks hold the same weights (a no-op on one process)
custom_hooks = [dict(type='SkippedVideoHook'), dict(type='WeightSyncCheckHook')]
randomness = dict(seed=0, deterministic=False)
