# Diving48 V2 (decord videos; lists `path label` built as in mmaction2 tools/data/diving48/README.md),
# layout: data/diving48/{diving48_{train,val}_list_videos.txt, videos/<id>.mp4}

# Data settings. Method configs inherit this file and override what they need.
# Normalisation is NOT done here: in mmaction2 1.x it lives in the model's
# `data_preprocessor` (ActionDataPreprocessor).
# mmaction2 1.x ships no Diving48 recognition configs; this follows its 0.x
# TSM Diving48 config (paths, flip) and the uniform-sampling recipe that
# mmaction2 uses for the other fine-grained temporal dataset, SSv2.
dataset_type = 'VideoDataset'
# All Diving48 videos live in one flat folder, so train/val share the root.
data_root = 'data/diving48/videos'
data_root_val = 'data/diving48/videos'
ann_file_train = 'data/diving48/diving48_train_list_videos.txt'
ann_file_val = 'data/diving48/diving48_val_list_videos.txt'
# Diving48 has only train/test splits; the official test split is the "val"
# list here and doubles as test split.
ann_file_test = 'data/diving48/diving48_val_list_videos.txt'
num_classes = 48

# mmaction2 1.x convention: the io backend is passed to DecordInit.
file_client_args = dict(io_backend='disk')

# Train: uniform segment sampling: 8 equal segments, one random frame from
# each, so the clip covers the whole dive (take-off, flight, entry); short
# side 256, RandomResizedCrop resized to 224x224, plain horizontal flip (dive
# classes - take-off, somersaults, twists, flight position - do not change
# under a mirror; mmaction2's 0.x TSM Diving48 config flips too).
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='UniformSample', clip_len=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Val: deterministic uniform sampling, 1 clip x 1 centre crop
# (short side 256 -> CenterCrop 224).
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='UniformSample', clip_len=8, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Test: 1 clip x 3 crops. Short side 224 so the three 224x224 crops tile the
# frame; mmaction2's ThreeCrop requires the crop to span one full side.
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='UniformSample', clip_len=8, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline,
        test_mode=True))

# Top-1 / top-5 accuracy and mean class accuracy.
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
