# DualPath ViT-B/16, 16 frames, HMDB51 split 1, trained from CLIP. Paperswithcode lists 75.6 top-1 (unverified; the
# split and protocol are not shown). Recipe of the official command: --blr 0.03 --batch_size 32 --epochs 50 on 3 GPUs
# (total batch 96, lr 0.03 x 96 / 256); RandomErasing with probability 0.5; test 3 views x 1 crop.
_base_ = ['./vit-b16-16f_k400.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

model = dict(cls_head=dict(num_classes=51))
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1, out_of_bound_opt='repeat_last'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=2, magnitude=10, num_magnitude_bins=11),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    # the official per-pixel normal noise (mode 'pixel' on normalised frames) is ImageNet mean + std * N(0, 1)
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        mode='rand',
        fill_color=[123.675, 116.28, 103.53],
        fill_std=[58.395, 57.12, 57.375]),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_train_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_val_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos')))
test_dataloader = dict(
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_val_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos')))

optim_wrapper = dict(optimizer=dict(lr=0.03 * 96 / 256))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=3, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 3,
        eta_min=0,
        by_epoch=True,
        begin=3,
        end=max_epochs,
        convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=96)
