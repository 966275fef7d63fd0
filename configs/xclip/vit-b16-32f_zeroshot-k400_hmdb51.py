# X-CLIP zero-shot on HMDB51 (official top-1 44.6): the K400-trained ViT-B/16 32-frame model (vit-b16-32f_k400.py, or
# the official zero.pth through tools/convert/convert.py xclip) scores class names it never saw; the official protocol
# averages the 3 splits (split 1 here). Test only: tools/test.py CONFIG CHECKPOINT.
_base_ = ['./vit-b16-32f_k400.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='MultiViewSegmentSample', num_segments=num_frames, num_views=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(
    batch_size=2,
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_val_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos'),
        pipeline=test_pipeline))
