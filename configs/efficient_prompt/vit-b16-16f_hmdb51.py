# Efficient-Prompt ViT-B/16, 16 frames, HMDB51 split 1, closed set: the released recipe (efficient_prompt.md §4,
# `python main.py --prefix 16 --postfix 16 --tfm_layers 1 --tfm_heads 8 --batchsize 64 --lr 1e-4 --featnorm 1
# --num_iterations 1100`). The official code reads cached CLIP frame features; this config decodes the videos and runs
# the frozen CLIP ViT on the fly (same model, same sampling); vit-b16-16f_hmdb51-features.py trains on cached features.
# No accuracy is published for this recipe (see README.md).
_base_ = [
    '../_base_/models/efficient_prompt_vit-b16.py', '../_base_/datasets/hmdb51.py', '../_base_/default_runtime.py'
]

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

# 16 consecutive frames of the video subsampled at a random rate of 1, 1/2, 1/3 or 1/4; a single centre crop after a
# bicubic resize of the short side to 224, no augmentation (the official features come from one centre crop).
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='RandomStrideSample', clip_len=num_frames, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation and test: 5 random draws per video, softmax probabilities averaged (valEnsemble=5)
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='RandomStrideSample', clip_len=num_frames, num_clips=5),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline
# 3,570 training videos / 64 with drop_last = 55 iterations per epoch, as the official loader
train_dataloader = dict(batch_size=64, num_workers=8, drop_last=True, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=8, num_workers=8, dataset=dict(pipeline=test_pipeline))

# AdamW over the trainable parameters, lr 1e-4, weight decay 0.01 on all of them (hard-coded in the official main.py).
# Constant lr: the official CosineAnnealingWarmRestarts(T_0=2e5, eta_min=lr/100) moves the lr by 7e-5 of its value over
# the 1,100 iterations, so no scheduler is set.
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01))
param_scheduler = None
# 20 epochs = 1,100 iterations, validated after every epoch (the official validates every 55 iterations)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
randomness = dict(seed=0)
