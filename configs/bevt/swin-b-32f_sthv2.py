# BEVT Video Swin-B, 32 frames, Something-Something V2 (official: top-1 70.6 with the DALL-E tokenizer, 1 clip x
# 3 crops, 321 GFLOPs per view, 89M parameters): the joint image + video pretraining checkpoint fine-tuned with a
# (16, 7, 7) window, RandAugment, random erasing, label smoothing and an EMA of the weights. As
# configs/recognition/swin/swin_base_patch244_window1677_bevt_finetune_ssv2.py of the official code.
# Train: tools/dist_train.sh configs/bevt/swin-b-32f_sthv2.py 8 (8 GPUs x 1 clip x 8 accumulation steps = 64)
_base_ = [
    '../_base_/models/bevt_swin-b.py', '../_base_/datasets/sthv2.py', '../_base_/default_runtime.py',
    '../_base_/schedules/bevt_finetune_60e.py'
]

num_frames = 32  # the frames of a clip, as the backbone takes them

# The joint pretraining checkpoint converted by `bevt_finetune` as for Kinetics-400 (swin-b-32f_k400.py), with every
# relative_position_bias_table interpolated trilinearly from (15, 13, 13) to (31, 13, 13) rows for the (16, 7, 7)
# window (converter option window_size), as the official SwinTransformer3D.init_weights does with
# pretrained_window_size=(8, 7, 7). mmaction2's SwinTransformer3D does not interpolate: the (8, 7, 7) conversion
# would leave the tables at their random initialisation (a size mismatch is only a warning with strict=False).
bevt_checkpoint = 'videoalign://bevt/swin-b_joint-pretrain_k400-in1k_finetune-init-ssv2'

model = dict(
    backbone=dict(
        window_size=(16, 7, 7),
        drop_path_rate=0.4,
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
            dict(type='Pretrained', checkpoint=bevt_checkpoint, prefix='backbone.')
        ]),
    # the official LabelSmoothing "blending": targets 0.9 + 0.1 / 174 and 0.1 / 174
    cls_head=dict(num_classes=174, label_smooth_eps=0.1),
    # the 3 test views of a video go through the backbone 2 at a time (needs a val/test batch size of 1)
    test_cfg=dict(max_testing_views=2))

# uniform sampling (one random frame in each of 32 segments: the official `frame_uniform=True`), short side 256,
# RandomResizedCrop, 224x224, no flip (SSv2 has left/right classes)
train_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    # torchvision's RandAugment stands in for the official imgaug RandAugment(n=4, m=7) (imgaug is not installed;
    # see README.md): the same sampled operations for every frame of a clip
    dict(type='TorchVisionWrapper', op='RandAugment', num_ops=4, magnitude=7),
    # the official timm RandomErasing(probability=0.25) runs after normalisation and fills with 0, i.e. the mean colour
    dict(type='RandomErasing', erase_prob=0.25, mode='const', fill_color=(123.675, 116.28, 103.53)),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# validation during training: 1 clip, short side 256 + CenterCrop 224
val_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# final test: 1 clip x 3 crops, short side 224 + ThreeCrop 224
test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(type='UniformSample', clip_len=num_frames, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# The official videos_per_gpu=8 is divided by update_interval=8 in its train.py: 1 clip per GPU and per iteration,
# 8 iterations per optimizer step, 8 GPUs: 64 clips per step. Validation and test: 1 video per GPU.
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))

# The official mmcv 1.x custom_keys. mmcv gives a parameter the settings of the LONGEST key contained in its name,
# both lr_mult and decay_mult (a missing one is 1), and no other rule. Reproduced on purpose, with its side effects:
# - `relative_position_bias_table` is longer than `backbone`: the tables train at the full lr (10x the rest of the
#   backbone) without weight decay;
# - every norm is in the backbone and `backbone` is longer than `norm`: the norms get lr x0.1 and KEEP their weight
#   decay (the `norm` entry applies to no parameter); biases decay; the head (no key) gets lr x1, decay x1;
#   `absolute_pos_embed` matches no parameter (no APE).
# videoalign's MultiplierOptimWrapperConstructor matches lr_mult and decay_mult independently (longest key of each
# table); listing every key in BOTH tables (the missing value as 1) makes both pick the same key, i.e. mmcv's rule.
# The two tables are computed from `custom_keys` when this file is read: a child config or --cfg-options must change
# optim_wrapper.paramwise_cfg.lr_mult / decay_mult themselves.
custom_keys = {
    'absolute_pos_embed': dict(decay_mult=0.),
    'relative_position_bias_table': dict(decay_mult=0.),
    'norm': dict(decay_mult=0.),
    'backbone': dict(lr_mult=0.1),
}
# AdamW (0.9, 0.999), lr 5e-4, weight decay 0.05; no gradient clipping; fp16 mixed precision (the official Apex O1;
# here AmpOptimWrapper: `--cfg-options optim_wrapper.type=OptimWrapper` trains in fp32, e.g. on CPU)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    accumulative_counts=8,
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=None,
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

# the lr is for 64 clips per optimizer step; mmengine's --auto-scale-lr counts the loader batch only (8 GPUs x 1)
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(checkpoint=dict(interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3))
# the official mmcv EMAHook(momentum=0.0002, interval=1): ema = 0.9998 ema + 0.0002 weights after every iteration
# (accumulation iterations included); validation and the saved checkpoints use the averaged weights
custom_hooks = [dict(type='SkippedVideoHook'), dict(type='EMAHook', momentum=0.0002, interval=1)]
