# X-CLIP ViT-B/16, 8 frames, Kinetics-400 (official: top-1 83.8 / top-5 95.7 with 4 views x 3 crops, 145 GFLOPs
# per view). The other X-CLIP configs inherit this one and change the size, the frames or the data.
_base_ = ['../_base_/models/xclip_vit-b16.py', '../_base_/datasets/kinetics400.py', '../_base_/default_runtime.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1),  # TSN: one random frame in each of 8 segments
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, .875, .75, .66), random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)],
        prob=0.8),
    dict(type='ClipGrayscale', prob=0.2),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation during training: one view at the segment centres, Resize 256 + CenterCrop 224
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='MultiViewSegmentSample', num_segments=num_frames, num_views=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 4 temporal views x 3 crops after a resize to 224 (the official views are random draws; these are
# evenly spread, so results repeat)
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='MultiViewSegmentSample', num_segments=num_frames, num_views=4),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, num_workers=4, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, num_workers=4, dataset=dict(pipeline=test_pipeline))

# AdamW (0.9, 0.98), lr 8e-6 for CLIP weights and x10 for the new modules (message_*, MIT, prompt generator); no
# weight decay on positional embeddings and 1-D parameters; 30 epochs, 5 warm-up epochs from ~0, cosine to lr/100.
# Total batch 256 = 8 GPUs x 8 x 4 accumulation steps; --amp stands in for the official Apex O1.
optim_wrapper = dict(
    accumulative_counts=4,
    optimizer=dict(type='AdamW', lr=8e-6, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.001),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(
        lr_mult={
            'message_': 10.,
            'neck.': 10.,
            'text_prompt.': 10.
        },
        decay_mult={'positional_embedding': 0.},
        no_decay_1d=True))
max_epochs = 30
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min_ratio=0.01,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=256)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
randomness = dict(seed=1024, diff_rank_seed=True)
