# BEVT Video Swin-B, 32 frames, Kinetics-400 (official: top-1 80.6 with the DALL-E tokenizer, 4 clips x 3 crops,
# 282 GFLOPs per view, 88M parameters): the joint image + video pretraining checkpoint fine-tuned with layer-wise
# lr decay. As configs/recognition/swin/swin_base_patch244_window877_bevt_finetune_k400.py of the official code.
# Train: tools/dist_train.sh configs/bevt/swin-b-32f_k400.py 8 (8 GPUs x 2 clips x 4 accumulation steps = 64)
_base_ = [
    '../_base_/models/bevt_swin-b.py', '../_base_/datasets/kinetics400.py', '../_base_/default_runtime.py',
    '../_base_/schedules/bevt_finetune_60e.py'
]

num_frames = 32  # the frames of a clip, as the backbone takes them

# dense sampling 32x2x1, short side 256, RandomResizedCrop, 224x224, flip
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation during training: 1 clip, short side 256 + CenterCrop 224
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 4 clips x 3 crops, short side 224 + ThreeCrop 224
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=2, num_clips=4, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# The official videos_per_gpu=8 is divided by update_interval=4 in its train.py: 2 clips per GPU and per iteration,
# 4 iterations per optimizer step, 8 GPUs: 64 clips per step. Validation and test: 1 video per GPU.
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))

# Layer-wise lr decay 0.9 as the official config writes it: mmcv 1.x `custom_keys`, from the final norm (x0.9) down to
# the patch embedding (x0.9^28), one step per block and per downsample layer. mmcv gives a parameter the settings of
# the LONGEST key contained in its name, both lr_mult and decay_mult (a missing one is 1), and no other rule.
# Reproduced on purpose, with its side effects:
# - `relative_position_bias_table` (28 characters) is longer than every block key (at most 27), so the tables train
#   at the full lr (no layer decay) and without weight decay;
# - every norm but the final one (in the blocks, the downsample layers, the patch embedding) matches a longer key than
#   `norm` (its block's, its layer's, `backbone.patch_embed`) and so keeps its weight decay: `norm` applies to nothing;
# - biases decay; the head (no key) gets lr x1, decay x1; `absolute_pos_embed` matches no parameter (no APE).
# videoalign's MultiplierOptimWrapperConstructor matches lr_mult and decay_mult independently (longest key of each
# table); listing every key in BOTH tables (the missing value as 1) makes both pick the same key, i.e. mmcv's rule.
# mmaction2 calls the final norm `norm3` where the official code says `norm` (`backbone.norm` would match it too).
# The two tables are computed from `custom_keys` when this file is read: a child config or --cfg-options must change
# optim_wrapper.paramwise_cfg.lr_mult / decay_mult themselves.
lr_decay = 0.9
custom_keys = {
    'absolute_pos_embed': dict(decay_mult=0.),
    'relative_position_bias_table': dict(decay_mult=0.),
    'norm': dict(decay_mult=0.),
    'backbone.norm3': dict(lr_mult=lr_decay, decay_mult=0.),
    'backbone.layers.3.blocks.1': dict(lr_mult=lr_decay),
    'backbone.layers.3.blocks.0': dict(lr_mult=lr_decay**2),
    'backbone.layers.2.downsample': dict(lr_mult=lr_decay**3),
    'backbone.layers.2.blocks.17': dict(lr_mult=lr_decay**4),
    'backbone.layers.2.blocks.16': dict(lr_mult=lr_decay**5),
    'backbone.layers.2.blocks.15': dict(lr_mult=lr_decay**6),
    'backbone.layers.2.blocks.14': dict(lr_mult=lr_decay**7),
    'backbone.layers.2.blocks.13': dict(lr_mult=lr_decay**8),
    'backbone.layers.2.blocks.12': dict(lr_mult=lr_decay**9),
    'backbone.layers.2.blocks.11': dict(lr_mult=lr_decay**10),
    'backbone.layers.2.blocks.10': dict(lr_mult=lr_decay**11),
    'backbone.layers.2.blocks.9': dict(lr_mult=lr_decay**12),
    'backbone.layers.2.blocks.8': dict(lr_mult=lr_decay**13),
    'backbone.layers.2.blocks.7': dict(lr_mult=lr_decay**14),
    'backbone.layers.2.blocks.6': dict(lr_mult=lr_decay**15),
    'backbone.layers.2.blocks.5': dict(lr_mult=lr_decay**16),
    'backbone.layers.2.blocks.4': dict(lr_mult=lr_decay**17),
    'backbone.layers.2.blocks.3': dict(lr_mult=lr_decay**18),
    'backbone.layers.2.blocks.2': dict(lr_mult=lr_decay**19),
    'backbone.layers.2.blocks.1': dict(lr_mult=lr_decay**20),
    'backbone.layers.2.blocks.0': dict(lr_mult=lr_decay**21),
    'backbone.layers.1.downsample': dict(lr_mult=lr_decay**22),
    'backbone.layers.1.blocks.1': dict(lr_mult=lr_decay**23),
    'backbone.layers.1.blocks.0': dict(lr_mult=lr_decay**24),
    'backbone.layers.0.downsample': dict(lr_mult=lr_decay**25),
    'backbone.layers.0.blocks.1': dict(lr_mult=lr_decay**26),
    'backbone.layers.0.blocks.0': dict(lr_mult=lr_decay**27),
    'backbone.patch_embed': dict(lr_mult=lr_decay**28),
}
# AdamW (0.9, 0.999), lr 3e-4, weight decay 0.001; gradient norm clipped at 40; fp16 mixed precision (the official
# Apex O1; here AmpOptimWrapper: `--cfg-options optim_wrapper.type=OptimWrapper` trains in fp32, e.g. on CPU)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    accumulative_counts=4,
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.001),
    clip_grad=dict(max_norm=40, norm_type=2),
    constructor='MultiplierOptimWrapperConstructor',
    paramwise_cfg=dict(
        lr_mult={
            key: value.get('lr_mult', 1.)
            for key, value in custom_keys.items()
        },
        decay_mult={
            key: value.get('decay_mult', 1.)
            for key, value in custom_keys.items()
        },
        no_decay_1d=False))

# the lr is for 64 clips per optimizer step; mmengine's --auto-scale-lr counts the loader batch only (8 GPUs x 2)
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
