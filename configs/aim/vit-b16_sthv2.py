# AIM ViT-B/16, 8 frames, Something-Something V2 (the official README gives no SSv2 number or checkpoint).
# As configs/recognition/vit/vitclip_base_sthv2.py: a second temporal adapter before the temporal attention
# (num_tadapter=2), MLP-adapter scale 1.0, uniform segment sampling, no flip, RandAugment (4 ops, magnitude 7),
# random erasing (p 0.25), label smoothing 0.1, 50 epochs, test 1 clip x 3 crops.
_base_ = ['./vit-b16_k400.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

model = dict(
    backbone=dict(block_cfg=dict(adapter_scale=1.0, num_tadapter=2)),
    cls_head=dict(num_classes=174, label_smooth_eps=0.1))

data_root = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'

train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames),  # a random frame in each of 8 segments
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    # torchvision's RandAugment stands in for the official imgaug RandAugment(n=4, m=7) (see README.md)
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7),
    # the official timm RandomErasing runs after normalisation and fills with 0, i.e. the mean colour
    dict(type='RandomErasing', erase_prob=0.25, mode='const', fill_color=(122.769, 116.74, 104.04)),
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
