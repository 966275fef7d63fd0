# AIM ViT-L/14, 8 frames, Kinetics-400 (official: top-1 86.8 / top-5 97.2 with 3 clips x 1 crop, 2902 GFLOPs over
# the 3 views; 38M of 341M parameters train). As the official ViT-L config since 2023-03 (issue #7): lr x0.1 for the
# whole backbone, adapters included; only cls_head keeps lr 3e-4.
# Differences from the official ViT-L recipe (see README.md):
# - ln_post keeps weight decay 0 here; the official mmcv constructor applies only the longest matching custom key,
#   'backbone' (lr x0.1, decay x1), so there ln_post decays. --cfg-options
#   optim_wrapper.paramwise_cfg.decay_mult.ln_post=1.0 reproduces that.
# - the official "ColorJitter" is mmaction 0.x's ColorJitter() with its defaults, i.e. AlexNet-style PCA lighting
#   noise only (alpha_std 0.1, color_space_aug=False): videoalign's PCALighting (mmaction2 1.x's ColorJitter is a
#   strong brightness/contrast/saturation/hue jitter, not this).
_base_ = ['./vit-b16_k400.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

clip_checkpoint = 'videoalign://clip/vit-l14'
model = dict(backbone=dict(arch='ViT-L/14', init_cfg=dict(checkpoint=clip_checkpoint)), cls_head=dict(in_channels=1024))
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=16, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='PCALighting', alpha_std=0.1),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(paramwise_cfg=dict(lr_mult={'backbone': 0.1}))
