# A tiny ALPRO prompter on the synthetic clips and their frames as images, on CPU: the WebVid2M + CC3M prompter recipe
# (VTC only, each iteration a batch of clips or of images drawn at random, 4 'headtail' frames, the official
# augmentations; timesformer-b16-bert-base_webvid2m-cc3m-prompter.py) at 64 px on the micro model of
# timesformer-micro-bert-micro_synthetic-retrieval.py, from scratch. Differences from the recipe: no flips (a flip
# turns "moves to the left" into "moves to the right"), a 72 px resize before the 64 px crop, lr 5e-4 and 10 epochs;
# validated by text-to-video retrieval on the VTC similarity alone.
#   python tools/data/synthetic/generate.py   # the clips, captions, vocab.txt, frames with their clips' captions
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-prompter.py \
#       --work-dir work_dirs/timesformer-micro-bert-micro_synthetic-prompter
_base_ = ['../_base_/default_runtime.py']

num_frames = 4
input_size = 64
width = 96
model = dict(
    type='AlproRetrieval',
    visual_encoder=dict(
        type='ALPROTimeSformer',
        num_frames=num_frames,
        img_size=input_size,
        patch_size=16,
        embed_dims=width,
        num_heads=4,
        num_transformer_layers=2,
        drop_path_rate=0.),
    text_encoder=dict(
        type='ALPROBert',
        config=dict(
            vocab_size=128,  # data/synthetic/vocab.txt has 99 word pieces
            hidden_size=width,
            num_hidden_layers=4,
            num_attention_heads=4,
            intermediate_size=4 * width,
            max_position_embeddings=64),
        fusion_layer=2),
    tokenizer=dict(type='ALPROTokenizer', vocab='data/synthetic/vocab.txt', max_length=16),
    embed_dim=64,
    vtm_loss=None,
    inference=dict(mode='vtc'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        format_shape='NCTHW'))

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
