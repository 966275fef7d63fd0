# Efficient-Prompt (ECCV 2022) with a CLIP ViT-B/16: the whole CLIP is frozen; a 1-layer, 8-head temporal transformer
# over the 16 per-frame CLIP embeddings and 16 + 16 learnable prompt vectors around each class name train
# (3,200,000 parameters). Logits are cos(video, class) / 0.07 (a fixed temperature).
# Base CLIP weights: OpenAI's ViT-B-16.pt by name (downloaded once, sha256-checked; docs/model_zoo.md); a local path
# to it or to an open_clip checkpoint works too.
clip_arch = 'ViT-B/16'
clip_checkpoint = 'videoalign://clip/vit-b16'
num_frames = 16

model = dict(
    type='VideoRecognizer',
    trainable=('neck.', 'cls_head.prompt.'),  # everything in CLIP is frozen; the frozen backbone runs without autograd
    backbone=dict(
        type='CLIPViT',
        arch=clip_arch,
        num_frames=num_frames,
        block_cfg=dict(type='CLIPBlock'),
        use_proj=True,
        init_cfg=dict(type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='visual.')),
    neck=dict(type='TemporalTransformer', num_frames=num_frames, embed_dims=512, num_layers=1, num_heads=8),
    cls_head=dict(
        type='LearnablePromptHead',  # its class names come from the dataset (its class_names)
        in_channels=512,
        text_encoder=dict(
            type='CLIPTextEncoder',
            arch=clip_arch,
            init_cfg=dict(
                type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='', exclude=('visual.', 'logit_scale'))),
        prompt=dict(type='LearnablePrompt', prefix=16, postfix=16),
        temperature=0.07,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],  # CLIP's mean and std (x 255), as the official extraction
        std=[68.5005327, 66.6321579, 70.32316305],
        format_shape='NCTHW'))
