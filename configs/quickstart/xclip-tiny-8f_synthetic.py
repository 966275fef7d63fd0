# A tiny X-CLIP (CLIP ViT with cross-frame message tokens, MIT neck, text-prompt head with the video-specific prompt
# generator) trained from scratch on the synthetic dataset, on CPU; the tests and the demo use it at smaller sizes.
# Classes are scored by the cosine between the video embedding and the text embedding of each class name.
# Measured on the synthetic set without CLIP weights: 0.46 validation top-1 after 20 epochs with this config (400
# training clips, 8.6 min on 2 cores), and 0.41-0.43 in a 30-epoch run at 32 px on 800 clips: the pair of each clip
# is found but not its direction. Adding AIM's zero-initialised temporal embedding
# (model.backbone.use_temporal_embedding=True) lifts that run to 0.65 after 30 epochs and 0.63 after 45 of 60.
# X-CLIP's message attention is blind to frame order and only the MIT's temporal position embedding (initialised at
# std 0.02) carries it, so classes that differ only in order are its worst case; besides, a frozen random text tower
# gives the ten class names nearly parallel embeddings (cosine up to 0.997). The README's quick start therefore trains
# clip-r3d-tiny-8f_synthetic.py (3D ResNet video tower, CLIP text tower trained with it).
_base_ = ['./r3d-tiny-8f_synthetic.py']  # its data, 20-epoch schedule and hooks

clip_arch = dict(
    embed_dim=64,
    vision=dict(image_size=56, patch_size=8, width=96, layers=4, heads=4),
    text=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2))
num_frames = 8

model = dict(
    _delete_=True,
    type='VideoRecognizer',
    backbone=dict(type='CLIPViT', arch=clip_arch, num_frames=num_frames, block_cfg=dict(type='XCLIPBlock')),
    neck=dict(type='MultiframeIntegrationTransformer', num_frames=num_frames, embed_dims=64, num_layers=1),
    cls_head=dict(
        type='TextPromptHead',
        in_channels=64,  # the class names come from the dataset (its class_names)
        text_encoder=dict(type='CLIPTextEncoder', arch=clip_arch),
        templates='video',
        freeze_text=True,
        logit_scale_init=2.995732273553991,  # ln(20)
        text_prompt=dict(type='VideoSpecificPrompt', embed_dims=64, visual_width=96, num_layers=1),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], format_shape='NCTHW'))

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(decay_mult={'positional_embedding': 0.}, no_decay_1d=True),
    clip_grad=dict(max_norm=5, norm_type=2))
default_hooks = dict(logger=dict(interval=10))
