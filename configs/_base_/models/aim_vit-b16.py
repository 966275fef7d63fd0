# AIM (ICLR 2023) with a CLIP ViT-B/16: the frozen CLIP image encoder with temporal, spatial and joint adapters in
# every block (AIMBlock), a zero-initialised temporal embedding, no CLIP projection, and a linear head on the
# frame-averaged CLS tokens (aim.md §2). Only the adapters, temporal_embedding, ln_post and the head train.
# Base CLIP weights: OpenAI's ViT-B-16.pt by name (downloaded once, sha256-checked; docs/model_zoo.md); a local path
# to it or to an open_clip checkpoint works too.
clip_arch = 'ViT-B/16'
clip_checkpoint = 'videoalign://clip/vit-b16'
num_frames = 8

model = dict(
    type='VideoRecognizer',
    # the official rule (tools/train.py) by name substring: 'Adapter' there, 'adapter' here
    trainable=('temporal_embedding', 'ln_post', 'adapter', 'cls_head'),
    backbone=dict(
        type='CLIPViT',
        arch=clip_arch,
        num_frames=num_frames,
        block_cfg=dict(type='AIMBlock', adapter_scale=0.5, num_tadapter=1),
        drop_path_rate=0.2,  # every official dataset config (the official base model file says 0.1)
        use_proj=False,
        use_temporal_embedding=True,
        # CLIP's proj is not loaded (the official code deletes it)
        init_cfg=dict(type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='visual.', exclude=('proj', ))),
    cls_head=dict(
        type='FrameAverageHead',
        num_classes=400,
        in_channels=768,
        dropout_ratio=0.5,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.769, 116.74, 104.04],  # CLIP's statistics
        std=[68.493, 66.63, 70.321],
        format_shape='NCTHW'))
