# Kinetics-400 (decord videos; lists `path label` built as in mmaction2 tools/data/kinetics/README.md),
# layout: data/kinetics400/{kinetics400_{train,val}_list_videos.txt,
#   videos_train/<class>/<id>.mp4, videos_val/<class>/<id>.mp4}

# Data settings. Method configs inherit this file and override what they need
# (e.g. `SampleFrames` clip_len/frame_interval, batch sizes).
# Normalisation is NOT done here: in mmaction2 1.x it lives in the model's
# `data_preprocessor` (ActionDataPreprocessor).
dataset_type = 'VideoDataset'
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
# Kinetics has no public test labels: the val split doubles as test split
# (as in every mmaction2 Kinetics config).
ann_file_test = 'data/kinetics400/kinetics400_val_list_videos.txt'
num_classes = 400
# the class names, one per line in label order: the datasets declare them, and a model that scores class-name
# text takes them from the data (see docs/architecture.md)
class_names = 'data/kinetics400/label_map_k400.txt'

# mmaction2 1.x convention: the io backend is passed to DecordInit.
file_client_args = dict(io_backend='disk')

# Train: one dense 8x8x1 clip (8 frames, stride 8 -> ~2.1 s at 30 fps),
# short side 256, RandomResizedCrop (area 0.08-1, ratio 3/4-4/3) resized to
# 224x224, random horizontal flip (Kinetics classes are flip-invariant).
# Same recipe as mmaction2 configs/recognition/{swin,slowfast} for K400.
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Val (cheap, run during training): 1 centred clip x 1 centre crop,
# short side 256 -> CenterCrop 224 (mmaction2 i3d/swin/slowfast K400 configs).
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# Test: the standard Kinetics multi-view protocol, 10 uniformly spaced clips
# x 3 spatial crops = 30 views, scores averaged by the recognizer.
# Short side is resized to 224 so that the three 224x224 crops (left, centre,
# right) cover the whole frame; mmaction2's ThreeCrop requires the crop to
# span one full side of the frame, so Resize(-1, 256) + ThreeCrop(224) would
# fail (Swin/MViT/UniFormerV2 configs in mmaction2 use this same pairing).
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=10, test_mode=True),
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
        type=dataset_type,
        class_names=class_names,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
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
        pipeline=val_pipeline,
        test_mode=True))
# Each test sample carries 30 views; lower batch_size (mmaction2 uses 1) or
# set the model's test_cfg max_testing_views if GPU memory runs out.
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
        pipeline=test_pipeline,
        test_mode=True))

# Top-1 / top-5 accuracy and mean class accuracy.
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
