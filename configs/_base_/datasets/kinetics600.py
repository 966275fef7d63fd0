# Kinetics-600 (decord videos; lists `path label` built as in mmaction2 tools/data/kinetics/README.md),
# layout: data/kinetics600/{kinetics600_{train,val}_list_videos.txt,
#   videos_train/<class>/<id>.mp4, videos_val/<class>/<id>.mp4}

# Data settings: paths, class names, loaders. Method configs inherit this file, add their pipelines and override
# what else they need (batch sizes).
# Normalisation is NOT done here: in mmaction2 1.x it lives in the model's
# `data_preprocessor` (ActionDataPreprocessor).
dataset_type = 'VideoDataset'
data_root = 'data/kinetics600/videos_train'
data_root_val = 'data/kinetics600/videos_val'
ann_file_train = 'data/kinetics600/kinetics600_train_list_videos.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list_videos.txt'
# Kinetics has no public test labels: the val split doubles as test split
# (as in every mmaction2 Kinetics config).
ann_file_test = 'data/kinetics600/kinetics600_val_list_videos.txt'
num_classes = 600
# the class names, one per line in label order: the datasets declare them, and a model that scores class-name
# text takes them from the data (see docs/architecture.md)
class_names = 'data/kinetics600/label_map_k600.txt'

# mmaction2 1.x convention: the io backend is passed to DecordInit.
file_client_args = dict(io_backend='disk')

# No pipelines here: each method config states its own (they differ per method: sampling, crops, augmentation),
# and sets them on the three loaders below.

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, class_names=class_names, ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
        test_mode=True))
# A test sample carries all its views (e.g. 10 clips x 3 crops); lower batch_size (mmaction2 uses 1) or set the
# model's test_cfg max_testing_views if GPU memory runs out.
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root_val),
        test_mode=True))

# Top-1 / top-5 accuracy and mean class accuracy.
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
