# A tiny ALPRO prompter on the synthetic clips and their frames as images, on CPU: the WebVid2M + CC3M prompter recipe
# (VTC only, each iteration a batch of clips or of images drawn at random, 4 'headtail' frames, the official
# augmentations; timesformer-b16-bert-base_webvid2m-cc3m-prompter.py) at 64 px on the micro model of
# timesformer-micro-bert-micro_synthetic-retrieval.py, from scratch. Differences from the recipe: no flips (a flip
# turns "moves to the left" into "moves to the right"), a 72 px resize before the 64 px crop, lr 5e-4 and 10 epochs;
# validated by text-to-video retrieval on the VTC similarity alone.
#   python tools/data/synthetic/generate.py   # the clips, captions, vocab.txt, frames with their clips' captions
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-prompter.py \
#       --work-dir work_dirs/timesformer-micro-bert-micro_synthetic-prompter
_base_ = ['../_base_/models/alpro_micro.py', '../_base_/default_runtime.py']

num_frames = 4
input_size = 64
model = dict(
    type='AlproRetrieval',
    visual_encoder=dict(_base_.micro_visual_encoder, num_frames=num_frames),
    text_encoder=_base_.micro_text_encoder,
    tokenizer=_base_.micro_tokenizer,
    embed_dim=64,
    vtm_loss=None,
    inference=dict(mode='vtc'),
    data_preprocessor=_base_.micro_normalisation)

data_root = 'data/synthetic'
video_ops = ('Identity', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'
             )  # the official ten without HorizontalFlip
image_ops = ('Identity', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate')
pack = dict(type='PackActionInputs', algorithm_keys=('text', 'source'))
video_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='headtail'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(72, 72), keep_ratio=False),
    dict(type='RandomCrop', size=input_size),
    dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=5, ops=video_ops),
    dict(type='FormatShape', input_format='NCTHW'), pack
]
image_pipeline = [
    dict(type='ImageDecode'),
    dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False, interpolation='bicubic'),
    dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=7, ops=image_ops, apply_prob=0.5, replace=True),
    dict(type='ImageToClip', num_frames=num_frames),
    dict(type='FormatShape', input_format='NCTHW'), pack
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
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoTextRetrievalDataset',
        ann_file=f'{data_root}/synthetic_train_captions.json',
        data_prefix=dict(video=f'{data_root}/videos'),
        source='video',
        pipeline=video_pipeline))
image_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ImageTextDataset',
        ann_file=f'{data_root}/synthetic_train_image_captions.json',
        data_prefix=dict(img=f'{data_root}/images'),
        pipeline=image_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VideoTextRetrievalDataset',
        ann_file=f'{data_root}/synthetic_val_captions.json',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file=f'{data_root}/synthetic_test_captions.json'))
val_evaluator = dict(type='RetrievalRankMetric')
test_evaluator = val_evaluator
val_cfg = dict(type='RetrievalValLoop')
test_cfg = dict(type='RetrievalTestLoop')

max_epochs = 10
train_cfg = dict(
    type='RandomSourceTrainLoop',
    other_loaders=[image_dataloader],
    source_names=('video', 'image'),
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=5)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    accumulative_counts=2,
    clip_grad=dict(max_norm=20., norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=0.05 * max_epochs, convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.,
        end_factor=0.,
        by_epoch=True,
        begin=0.05 * max_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=5, save_best='t2i/retrieval/R1', rule='greater', max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
