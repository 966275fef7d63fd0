# DualPath (CVPR 2023) with a CLIP ViT-B/16: 16-frame clips become 1 grid-like frameset (4 x 4 consecutive frames,
# resized to 224) and 8 sparse frames; frozen CLIP blocks with serial adapters on the grid (temporal) path and
# parallel adapters on the frame (spatial) path; an MLP head on [mean grid CLS, mean frame CLS] (dualpath.md).
# Base CLIP weights: OpenAI's ViT-B-16.pt by name (downloaded once, sha256-checked; docs/model_zoo.md); a local path
# to it or to an open_clip checkpoint works too.
clip_arch = 'ViT-B/16'
clip_checkpoint = 'videoalign://clip/vit-b16'
num_frames = 16

model = dict(
    type='VideoRecognizer',
    # the official build_model trains the keys missing from CLIP (adapters, head, spatial_positional_embedding) and
    # every name containing class_embedding or positional_embedding; that includes the text tower's unused
    # positional_embedding (77 x 512 = 39,424 parameters), which videoalign does not build
    trainable=('adapter', 'cls_head', 'spatial_positional_embedding', 'class_embedding', 'positional_embedding'),
    backbone=dict(
        type='DualPathViT',
        arch=clip_arch,
        num_frames=num_frames,
        grid_width=4,
        num_sparse_frames=8,
        block_cfg=dict(type='DualPathBlock', adapter_ratio=0.25, adapter_dropout=0.1),
        antialias=False,  # torchvision <= 0.14 of the official code did not antialias tensors
        init_cfg=dict(type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='visual.')),
    cls_head=dict(
        type='DualPathHead',
        num_classes=400,
        in_channels=1024,  # [mean grid embedding, mean frame embedding], 2 x 512
        hidden_channels=512,
        num_sparse_frames=8,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='score'),  # the official merge averages raw logits over the test views
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet statistics, as the official loader (not CLIP's)
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
