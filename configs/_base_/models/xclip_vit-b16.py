# X-CLIP (ECCV 2022) with a CLIP ViT-B/16: cross-frame communication blocks, a 1-layer MIT neck and a text-prompt
# head with the 2-layer video-specific prompt generator (alpha 0.1), i.e. the official load() defaults (xclip.md).
# Base CLIP weights: OpenAI's ViT-B-16.pt by name (downloaded once, sha256-checked; docs/model_zoo.md); a local path
# to it or to an open_clip checkpoint works too.
clip_arch = 'ViT-B/16'
clip_checkpoint = 'videoalign://clip/vit-b16'
num_frames = 8

model = dict(
    type='VideoRecognizer',  # Recognizer3D that also joins named features of test views run in chunks
    backbone=dict(
        type='CLIPViT',
        arch=clip_arch,
        num_frames=num_frames,
        block_cfg=dict(type='XCLIPBlock'),
        drop_path_rate=0.,  # the official MODEL.DROP_PATH_RATE default
        init_cfg=dict(type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='visual.')),
    neck=dict(type='MultiframeIntegrationTransformer', num_frames=num_frames, embed_dims=512, num_layers=1),
    cls_head=dict(
        type='TextPromptHead',  # its class names come from the dataset (its class_names)
        in_channels=512,
        text_encoder=dict(
            type='CLIPTextEncoder',
            arch=clip_arch,
            init_cfg=dict(
                type='CLIPPretrained', checkpoint=clip_checkpoint, prefix='', exclude=('visual.', 'logit_scale'))),
        templates='bare',  # the raw class name, as the official generate_text
        freeze_text=True,
        logit_scale_init=4.605170185988092,  # ln(100): OpenAI CLIP's trained logit_scale, frozen
        freeze_logit_scale=True,
        text_prompt=dict(type='VideoSpecificPrompt', embed_dims=512, visual_width=768, num_layers=2, alpha_init=0.1),
        loss_cls=dict(type='CrossEntropyLoss'),  # soft-target CE once labels are blended
        label_smooth_eps=0.1,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet statistics, as the official pipeline (not CLIP's)
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
        blending=dict(
            type='RandomBatchAugment',  # mixup or cutmix with probability 0.5 each
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=400),
                dict(type='CutmixBlending', alpha=1.0, num_classes=400)
            ])))
