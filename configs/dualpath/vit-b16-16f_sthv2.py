# DualPath ViT-B/16, 16 frames, Something-Something V2 (no published number). Recipe of the official command:
# --blr 0.0005 --batch_size 43 --epochs 60 on 2 GPUs (total batch 86, lr 0.0005 x 86 / 256; an earlier command uses
# blr 0.00035); no flip; RandomErasing with probability 0.1; test 1 view x 3 crops.
_base_ = ['./vit-b16-16f_k400.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

model = dict(cls_head=dict(num_classes=174))
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1, out_of_bound_opt='repeat_last'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=2, magnitude=10, num_magnitude_bins=11),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(
        type='RandomErasing',
        erase_prob=0.1,
        mode='rand',
        fill_color=[123.675, 116.28, 103.53],
        fill_std=[58.395, 57.12, 57.375]),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 1 temporal view x 3 crops (short side 224)
test_pipeline = [
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
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# no label map in the K400 one's place: the classes are numbered (give class_names to name them)
train_dataloader = dict(
    batch_size=43,
    dataset=dict(
        class_names=None,
        ann_file='data/sthv2/sthv2_train_list_videos.txt',
        data_prefix=dict(video='data/sthv2/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        class_names=None, ann_file='data/sthv2/sthv2_val_list_videos.txt', data_prefix=dict(video='data/sthv2/videos')))
test_dataloader = dict(
    dataset=dict(
        class_names=None,
        ann_file='data/sthv2/sthv2_val_list_videos.txt',
        data_prefix=dict(video='data/sthv2/videos'),
        pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(lr=5e-4 * 86 / 256))
max_epochs = 60
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
auto_scale_lr = dict(base_batch_size=86)
