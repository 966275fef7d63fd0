# DualPath ViT-B/16, 16 frames (1 grid + 8 frames), Kinetics-400. Paperswithcode lists 85.4 / 97.1 top-1 / top-5
# (frames and views not shown; unverified, no official checkpoint). The official release gives no K400 command: the
# batch (128), blr (7e-4, the Diving48 command's) and 30 epochs are videoalign's choices. The other DualPath configs
# inherit this one and change the data and the recipe.
_base_ = ['../_base_/models/dualpath_vit-b16.py', '../_base_/datasets/kinetics400.py', '../_base_/default_runtime.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

# Official training sampling: 16 consecutive sampled frames of one dense clip, at a rate re-drawn per sample from
# {1, 2, 4, 8}; here the fixed --sampling_rate default 4. RandAugment (2 ops at the maximum magnitude), then a
# random-resized crop (area 0.08-1, aspect 3/4-4/3) to 224 and a flip; the official RandAugment is timm's (see README).
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1, out_of_bound_opt='repeat_last'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=2, magnitude=10, num_magnitude_bins=11),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation during training: one clip at the centre, short side 224, centre crop
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames',
        clip_len=num_frames,
        frame_interval=4,
        num_clips=1,
        test_mode=True,
        out_of_bound_opt='repeat_last'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 3 temporal views x 1 centre crop (short side 224), logits averaged by the head
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames',
        clip_len=num_frames,
        frame_interval=4,
        num_clips=3,
        test_mode=True,
        out_of_bound_opt='repeat_last'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(batch_size=16, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(pipeline=test_pipeline))

# AdamW (0.9, 0.999), lr = blr x total batch / 256, weight decay 0.05 on every trained parameter (the official
# no-decay group only takes names with "bn"), no gradient clipping; frozen weights are left out of the optimizer.
# Total batch 128 = 8 GPUs x 16; --amp stands in for the official torch.cuda.amp autocast + NativeScaler.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=7e-4 * 128 / 256, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(no_decay_1d=False),
    clip_grad=None)
# linear warm-up for 3 epochs, then a half-cycle cosine to 0, both per iteration (the official util/lr_sched.py)
max_epochs = 30
warmup_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
# --auto-scale-lr rescales lr linearly to the actual total batch, as the official blr rule does
auto_scale_lr = dict(enable=False, base_batch_size=128)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
