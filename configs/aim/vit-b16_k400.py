# AIM ViT-B/16, 8 frames, Kinetics-400 (official: top-1 83.9 / top-5 96.3 with 3 clips x 1 crop; 606 GFLOPs over the
# 3 views, 202 per view; 10.97M of 96.77M parameters train). The other AIM configs inherit this one and change the
# size, the frames or the data. Train: tools/dist_train.sh configs/aim/vit-b16_k400.py 8 --amp
_base_ = ['../_base_/models/aim_vit-b16.py', '../_base_/datasets/kinetics400.py', '../_base_/default_runtime.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

# dense sampling 8x16x1 (the official 8-frame K400/K700 setting), short side 256, RandomResizedCrop, 224x224, flip
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=16, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation during training: 1 clip, short side 256 + CenterCrop 224
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=16, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 3 clips x 1 crop, short side 224 + CenterCrop 224 (the README's "8x3x1")
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=16, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# total batch 64 = 8 GPUs x 8 videos
train_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))

# AdamW (0.9, 0.999), lr 3e-4, weight decay 0.05 except for class_embedding, positional_embedding, ln_1, ln_2,
# ln_pre and ln_post (mmcv's custom_keys of the official configs). Everything else that trains decays, the
# temporal_embedding and the adapter biases included (no_decay_1d=False). No gradient clipping.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(
        decay_mult={
            'class_embedding': 0.,
            'positional_embedding': 0.,
            'ln_1': 0.,
            'ln_2': 0.,
            'ln_pre': 0.,
            'ln_post': 0.
        },
        no_decay_1d=False),
    clip_grad=None)

# mmcv's lr_config(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True, warmup_iters=2.5):
# cosine over all epochs, stepped per epoch, times a linear warm-up from 0.1 (mmcv's warmup_ratio) per iteration
# over the first 2.5 epochs. mmengine chains the two schedulers by multiplying them.
max_epochs = 30
warmup_epochs = 2.5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs)
]
# lr above is for a total batch size of 64; --auto-scale-lr scales it to the actual one
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
