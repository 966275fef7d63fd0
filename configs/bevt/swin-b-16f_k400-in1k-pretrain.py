# BEVT joint pretraining (official configs/recognition/swin/swin_base_patch244_window877_bevt_in1k_k400.py): a
# Video Swin-B shared by masked video modelling on Kinetics-400 and masked image modelling on ImageNet-1K, DALL-E
# dVAE token ids as targets. 32 GPUs x (4 clips + 32 images) per forward, 2 forwards per step, 150 epochs.
# Each iteration takes one video batch and one image batch (JointEpochBasedTrainLoop): the video loader defines the
# epoch, the image loader cycles.
# Initialisation: the stage-1 image-stream checkpoint, inflated (model zoo `bevt/swin-b_image-pretrain_in1k`), and
# the dVAE encoder (`dalle/dvae-encoder`); both are downloaded by name from the model zoo (the BEVT file is on Google
# Drive: tools/download.py says how to fetch it by hand).
_base_ = ['../_base_/default_runtime.py']

num_frames = 16
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])

model = dict(
    type='BEVTPretrainer',
    backbone=dict(
        type='SwinTransformerBEVT',
        arch='base',
        patch_size=(2, 4, 4),
        window_size=(8, 7, 7),
        drop_path_rate=0.3,
        # the official image windows (the released weights were trained with them): see the class docstring
        official_image_windows=True,
        # as the official init_weights: truncated normal linear layers and unit norms, then the inflated image-stream
        # checkpoint over them (the decoders and the mask token are not in it)
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
            dict(type='Pretrained', checkpoint='videoalign://bevt/swin-b_image-pretrain_in1k', prefix='backbone.')
        ]),
    cls_head=dict(
        type='MaskedTokenHead',
        in_channels=1024,
        num_tokens=8192,
        vae_encoder=dict(
            type='DALLETargetGenerator', init_cfg=dict(type='Pretrained',
                                                       checkpoint='videoalign://dalle/dvae-encoder'))),
    data_preprocessor=dict(type='BEVTDataPreprocessor', **img_norm_cfg))

# video: 16 frames at interval 8, the tokenizer's 112 px copy of the same crop, tubes over the 8 x 14 x 14 grid
video_train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=8, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomRescale', scale_range=(256, 320), interpolation='bicubic'),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(112, 112), interpolation='lanczos', input_format='NCTHW'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(
        type='TubeMaskGenerator',
        input_size=14,
        num_masking_patches=98,
        min_num_patches=16,
        masked_tube_range=(0.5, 1.0),
        temporal_scale=2),
    dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask', 'target_mask'))
]
# images: the same, plus colour jitter; BEiT's block-wise masks, 98 of 196
image_train_pipeline = [
    dict(type='ImageDecode'),
    dict(type='RandomRescale', scale_range=(256, 320), interpolation='bicubic'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(112, 112), interpolation='lanczos', input_format='NCHW'),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='mmpretrain.BEiTMaskGenerator', input_size=(14, 14), num_masking_patches=98, min_num_patches=16),
    dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask'))
]

train_dataloader = dict(
    batch_size=4,  # clips per GPU per forward (the official 8, divided by the accumulation 2)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoDataset',
        ann_file='data/kinetics400/kinetics400_train_list_videos.txt',
        data_prefix=dict(video='data/kinetics400/videos_train'),
        pipeline=video_train_pipeline))
image_dataloader = dict(
    batch_size=32,  # images per GPU per forward (the official 64 / 2)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ImageListDataset',
        ann_file='data/imagenet/ILSVRC2012_name_train_list.txt',
        data_prefix=dict(img='data/imagenet/train'),
        pipeline=image_train_pipeline))

max_epochs = 150
train_cfg = dict(type='JointEpochBasedTrainLoop', other_loaders=[image_dataloader], max_epochs=max_epochs)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None

# AdamW 5e-4, weight decay 0.05 but none on the relative-position tables and on every norm (the official
# custom_keys 'relative_position_bias_table' and 'norm'; linear biases decay, as in the official mmcv constructor);
# 2 forwards per step, gradient clip 3, mixed precision (the official Apex O1)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(
        decay_mult=dict(absolute_pos_embed=0., relative_position_bias_table=0., norm=0.), no_decay_1d=False),
    accumulative_counts=2,
    clip_grad=dict(max_norm=3.0, norm_type=2))
# cosine by iteration to 0 after a linear warm-up of 10 epochs from 0.1x (mmcv's default warm-up ratio)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 10,
        eta_min=0,
        by_epoch=True,
        begin=10,
        end=max_epochs,
        convert_to_iter_based=True)
]
# 32 GPUs x 4 clips x 2 accumulated forwards
auto_scale_lr = dict(enable=False, base_batch_size=256)

default_hooks = dict(checkpoint=dict(interval=10, save_best=None, max_keep_ckpts=3))
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
