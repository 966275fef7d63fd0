# AIM ViT-B/16, 32 frames, Diving48 (official: top-1 88.9, README views "32x1x1", 809 GFLOPs). As
# configs/recognition/vit/vitclip_base_diving48.py: uniform segment sampling, flip, 50 epochs, and a test of 1 clip
# x 3 crops, which does not match the README's 1 view (issue #35): for the README's protocol use CenterCrop, e.g.
# the val pipeline (short side 256 + CenterCrop 224) as test pipeline.
_base_ = ['./vit-b16_k400.py']

num_frames = 32  # the frames of a clip: the backbone and every sampler below

model = dict(backbone=dict(num_frames=num_frames), cls_head=dict(num_classes=48))

data_root = 'data/diving48/videos'
ann_file_train = 'data/diving48/diving48_train_list_videos.txt'
ann_file_val = 'data/diving48/diving48_val_list_videos.txt'
ann_file_test = 'data/diving48/diving48_val_list_videos.txt'

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames),  # a random frame in each of 32 segments
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# no label map in the K400 one's place: the classes are numbered (give class_names to name them)
train_dataloader = dict(
    dataset=dict(class_names=None, ann_file=ann_file_train, data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(class_names=None, ann_file=ann_file_val, data_prefix=dict(video=data_root), pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(class_names=None, ann_file=ann_file_test, data_prefix=dict(video=data_root), pipeline=test_pipeline))

max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2.5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs)
]
