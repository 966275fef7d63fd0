# X-CLIP zero-shot on K600 (official top-1 65.2): the K400-trained ViT-B/16 32-frame model
# (vit-b16-32f_k400.py, or the official zero.pth through tools/convert/xclip.py) scores class names it never saw;
# the 220 K600 classes absent from K400; the official protocol averages 3 random
# subsets of 160 of them. Test only: tools/test.py CONFIG CHECKPOINT.
_base_ = ['./vit-b16-32f_k400.py']

model = dict(cls_head=dict(num_classes=220, class_names='data/kinetics600/k600_novel_classes.txt'))
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='MultiViewSegmentSample', num_segments=32, num_views=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(
    batch_size=2,
    dataset=dict(ann_file='data/kinetics600/kinetics600_novel_val_list_videos.txt',
                 data_prefix=dict(video='data/kinetics600/videos_val'),
                 pipeline=test_pipeline))
