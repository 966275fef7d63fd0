# A tiny ALPRO trained from scratch for text-to-video retrieval on the synthetic clips and their captions ("a red
# circle moves to the left"), on CPU in about 13 minutes (2 cores): the MSR-VTT recipe (VTC + VTM, official 'rand' /
# 'uniform' frames, resize without crop) on a 2-layer TimeSformer (64 px, 16 px patches, 8 frames) and a 2 + 2-layer
# BERT, 96 wide. Test R@1 (text-to-video, official ranking): 21.1 against 1.0 by chance (configs/alpro/README.md).
#   python tools/data/synthetic/generate.py        # data/synthetic: videos, captions, vocab.txt
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-retrieval.py \
#       --work-dir work_dirs/alpro_micro_retrieval
#   python tools/test.py configs/alpro/timesformer-micro-bert-micro_synthetic-retrieval.py \
#       work_dirs/alpro_micro_retrieval/epoch_40.pth
_base_ = ['../_base_/models/alpro_micro.py', '../_base_/datasets/msrvtt_retrieval.py', '../_base_/default_runtime.py']

num_frames = 8
input_size = 64
model = dict(
    type='AlproRetrieval',
    visual_encoder=dict(_base_.micro_visual_encoder, num_frames=num_frames),
    text_encoder=_base_.micro_text_encoder,
    tokenizer=_base_.micro_tokenizer,
    embed_dim=64,
    inference=dict(mode='official', k=16, batch_size=256),
    data_preprocessor=_base_.micro_normalisation)

# the synthetic clips and their captions ({video: [captions]}), read as MSR-VTT is, at 64 px
data_root = 'data/synthetic/videos'
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='rand'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=('text', ))
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='uniform'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=('text', 'gt_video_id', 'gt_text_id'))
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_train_captions.json',
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_val_captions.json',
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_test_captions.json',
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline))

max_epochs = 40
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=10)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    clip_grad=dict(max_norm=5., norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.,
        end_factor=0.,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=5, save_best='t2i/retrieval/R1', rule='greater', max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
