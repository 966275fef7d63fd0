# Diving48 V2 (decord videos; lists `path label` built as in mmaction2 tools/data/diving48/README.md),
# layout: data/diving48/{diving48_{train,val}_list_videos.txt, videos/<id>.mp4}

# Data settings: paths, class names, loaders. Method configs inherit this file, add their pipelines and override
# what else they need (batch sizes).
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

# No pipelines here: each method config states its own (they differ per method: sampling, crops, augmentation),
# and sets them on the three loaders below.

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val, data_prefix=dict(video=data_root_val), test_mode=True))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test, data_prefix=dict(video=data_root_val), test_mode=True))

# Top-1 / top-5 accuracy and mean class accuracy.
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
