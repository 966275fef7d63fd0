# Efficient-Prompt ViT-B/16, 16 frames, HMDB51 split 1, closed set, trained on cached CLIP frame features: the
# official pipeline ("HMDB51-feature-30fps-center"). Write the features once (about 3 GB for HMDB51) with
#   python tools/data/extract_clip_features.py configs/efficient_prompt/vit-b16-16f_hmdb51.py \
#       --out-dir data/hmdb51/clip_features_vit-b16
# which stores <out-dir>/<class>/<name>.npy of shape (T_video, 512) for every video of the train and test lists. The
# backbone is then an identity: the neck and head are those of vit-b16-16f_hmdb51.py, with the same recipe.
# A converted official checkpoint loads with tools/convert/convert.py efficient_prompt ... --options drop_visual=True.
_base_ = ['./vit-b16-16f_hmdb51.py']

num_frames = {{_base_.num_frames}}  # the frames of a clip, as the backbone takes them

feature_root = 'data/hmdb51/clip_features_vit-b16'
model = dict(
    backbone=dict(_delete_=True, type='torch.nn.Identity'),  # inputs are the frame features (B * views, 16, 512)
    data_preprocessor=dict(_delete_=True, type='ActionDataPreprocessor'))  # stacks the features, no normalisation

train_pipeline = [
    dict(type='LoadFrameFeatures'),
    dict(type='RandomStrideSample', clip_len=num_frames, num_clips=1),
    dict(type='FrameFeatureDecode'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='LoadFrameFeatures'),
    dict(type='RandomStrideSample', clip_len=num_frames, num_clips=5),
    dict(type='FrameFeatureDecode'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline
# the video lists are read as they are: <class>/<name>.avi under feature_root is read as <class>/<name>.npy
train_dataloader = dict(dataset=dict(data_prefix=dict(video=feature_root), pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(data_prefix=dict(video=feature_root), pipeline=val_pipeline))
test_dataloader = dict(batch_size=64, dataset=dict(data_prefix=dict(video=feature_root), pipeline=test_pipeline))
