# MSR-VTT text-video retrieval as ALPRO reads it (salesforce/ALPRO config_release/msrvtt_ret.json): its annotation
# files data/msrvtt_ret/txt/{train,val,test}.jsonl ({"clip_name", "caption"} lines; test: the 1k-A split) and the
# videos; 8 frames at 224 px. Training takes one sample per (video, caption) pair, evaluation one per video with all
# its captions, ranked by the model in mmaction2's retrieval loops.
dataset_type = 'VideoTextRetrievalDataset'
data_root = 'data/msrvtt_ret'
num_frames = 8
input_size = 224

# official: decord decodes straight to 224 x 224 (no crop, no flip, no augmentation for retrieval); 'rand' frames
# (sorted, without repetition) in training, 'uniform' in evaluation
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
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/txt/train.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/txt/val.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file=f'{data_root}/txt/test.jsonl'))

# R@1/5/10, median and mean rank, text-to-video (t2i/...) and video-to-text (i2t/...)
val_evaluator = dict(type='RetrievalRankMetric')
test_evaluator = val_evaluator
val_cfg = dict(type='RetrievalValLoop')
test_cfg = dict(type='RetrievalTestLoop')
