# X-CLIP ViT-B/16, 32 frames, Kinetics-400: the K400 training of the official zero-shot model (zero.pth,
# 571 GFLOPs per view); the zero-shot and few-shot configs inherit it.
_base_ = ['./vit-b16-8f_k400.py']

num_frames = 32  # the frames of a clip: the backbone and every sampler below
model = dict(backbone=dict(num_frames=num_frames), neck=dict(num_frames=num_frames))

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1),  # TSN: one random frame in each of 32 segments
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
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(accumulative_counts=8)
