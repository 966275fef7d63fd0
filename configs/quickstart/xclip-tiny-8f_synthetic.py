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
_base_ = ['../_base_/datasets/synthetic.py', '../_base_/default_runtime.py']

clip_arch = dict(
    embed_dim=64,
    vision=dict(image_size=56, patch_size=8, width=96, layers=4, heads=4),
    text=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2))
num_frames = 8

model = dict(
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

max_epochs = 20
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=1e-5,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(decay_mult={'positional_embedding': 0.}, no_decay_1d=True),
    clip_grad=dict(max_norm=5, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=5, save_best='acc/top1', rule='greater', max_keep_ckpts=2))
custom_hooks = [dict(type='SkippedVideoHook'), dict(type='WeightSyncCheckHook')]
randomness = dict(seed=0, deterministic=False)
