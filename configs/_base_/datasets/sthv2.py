# Something-Something V2 (decord videos; lists `path label` built as in mmaction2 tools/data/sthv2/README.md),
# layout: data/sthv2/{sthv2_{train,val}_list_videos.txt, videos/<id>.mp4}

# Data settings: paths, class names, loaders. Method configs inherit this file, add their pipelines and override
# what else they need (batch sizes).
# Normalisation is NOT done here: in mmaction2 1.x it lives in the model's
# `data_preprocessor` (ActionDataPreprocessor).
dataset_type = 'VideoDataset'
# All SSv2 videos live in one flat folder, so train/val share the root.
data_root = 'data/sthv2/videos'
data_root_val = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
# SSv2 test labels are not public: the val split doubles as test split.
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'
num_classes = 174

# mmaction2 1.x convention: the io backend is passed to DecordInit.
file_client_args = dict(io_backend='disk')

# SSv2 is direction-sensitive, so a plain horizontal flip corrupts labels.
# Like mmaction2's TSM SSv2 configs, flip with a label swap for the three
# left/right class pairs (indices of tools/data/sthv2/label_map.txt):
#   86 <-> 87   Pulling something from left to right / right to left
#   93 <-> 94   Pushing something from left to right / right to left
#  166 <-> 167  Turning the camera left / right while filming something
# Other classes keep their label when flipped.
sthv2_flip_label_map = {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}

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
