# HMDB51 split 1 (decord videos; lists `path label` built as in mmaction2 tools/data/hmdb51/README.md),
# layout: data/hmdb51/{hmdb51_{train,val}_split_{1,2,3}_videos.txt, videos/<class>/<name>.avi}

# Data settings: paths, class names, loaders. Method configs inherit this file, add their pipelines and override
# what else they need (batch sizes).
# Normalisation is NOT done here: in mmaction2 1.x it lives in the model's
# `data_preprocessor` (ActionDataPreprocessor).
dataset_type = 'VideoDataset'
# Video paths in the lists are `<class>/<name>.avi`, relative to videos/.
data_root = 'data/hmdb51/videos'
data_root_val = 'data/hmdb51/videos'
# HMDB51 has three official splits; these are split 1 (the one usually
# reported). To use split 2 or 3, override all three annotation files, e.g.
#   --cfg-options train_dataloader.dataset.ann_file=\
#       data/hmdb51/hmdb51_train_split_2_videos.txt ...
# (the names are literal on purpose: a `split` variable formatted into an
# f-string would be evaluated once when this file is parsed, so overriding
# `split` via --cfg-options or a child config would NOT change the files).
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'
# No separate test set: evaluation on the split's held-out (val) list.
ann_file_test = 'data/hmdb51/hmdb51_val_split_1_videos.txt'
num_classes = 51
# the class names, one per line in label order: the datasets declare them, and a model that scores class-name
# text takes them from the data (see docs/architecture.md)
class_names = 'data/hmdb51/hmdb51_classes.txt'

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
