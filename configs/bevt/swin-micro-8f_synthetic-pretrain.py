# A tiny BEVT that pretrains on CPU in minutes: the joint recipe at 64 px on the synthetic videos (make them with
# tools/data/synthetic/generate.py), whose training frames serve as the image set. The sizes keep the official shape
# constraints: 64 px gives stage maps 16, 8, 4, 2 (window 2 divides each) and a 4x4 token grid per frame; the
# tokenizer sees 32 px copies (a random-init DALL-E of 64 codes: the targets are fixed functions of the pixels).
# Fine-tune the result with swin-micro-8f_synthetic.py (docs in configs/bevt/README.md).
_base_ = ['../_base_/default_runtime.py']

num_frames = 8
input_size = 64
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0])

model = dict(
    type='BEVTPretrainer',
    backbone=dict(
        type='SwinTransformerBEVT',
        arch=dict(embed_dims=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8)),
        patch_size=(2, 4, 4),
        window_size=(2, 2, 2),
        drop_path_rate=0.1),
    cls_head=dict(
        type='MaskedTokenHead',
        in_channels=128,
        num_tokens=64,
        vae_encoder=dict(type='DALLETargetGenerator', n_hid=16, vocab_size=64)),
    data_preprocessor=dict(type='BEVTDataPreprocessor', **img_norm_cfg))

video_train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.6, 1.0), aspect_ratio_range=(0.8, 1.25)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(input_size // 2, input_size // 2), interpolation='lanczos', input_format='NCTHW'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', input_size=4, num_masking_patches=8, min_num_patches=2, temporal_scale=2),
    dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask', 'target_mask'))
]
image_train_pipeline = [
    dict(type='ImageDecode'),
    dict(type='RandomResizedCrop', area_range=(0.6, 1.0), aspect_ratio_range=(0.8, 1.25)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='CopyResize', scale=(input_size // 2, input_size // 2), interpolation='lanczos', input_format='NCHW'),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='mmpretrain.BEiTMaskGenerator', input_size=(4, 4), num_masking_patches=8, min_num_patches=2),
    dict(type='PackActionInputs', collect_keys=('imgs', 'imgs_second', 'mask'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoDataset',
        ann_file='data/synthetic/synthetic_train_list_videos.txt',
        data_prefix=dict(video='data/synthetic/videos'),
        pipeline=video_train_pipeline))
image_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ImageListDataset',
        ann_file='data/synthetic/synthetic_train_list_images.txt',
        data_prefix=dict(img='data/synthetic/images'),
        pipeline=image_train_pipeline))

max_epochs = 10
train_cfg = dict(type='JointEpochBasedTrainLoop', other_loaders=[image_dataloader], max_epochs=max_epochs)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(decay_mult=dict(relative_position_bias_table=0., norm=0.), no_decay_1d=False),
    clip_grad=dict(max_norm=3.0, norm_type=2))
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
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, save_best=None, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
