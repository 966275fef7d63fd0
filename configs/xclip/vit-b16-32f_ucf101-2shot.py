# X-CLIP ViT-B/16, 32 frames, few-shot UCF101: K = 2 videos per class of split 1, trained from CLIP (official
# top-1 76.4); the -4shot, -8shot and -16shot configs change K. VideoDataset(num_shots, shot_seed) draws the K videos
# (the same list, K and seed give the same subset). The recipe is the HMDB51 one.
_base_ = ['./vit-b16-32f_hmdb51-2shot.py']

model = dict(
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=101),
            dict(type='CutmixBlending', alpha=1.0, num_classes=101)
        ])))
train_dataloader = dict(
    dataset=dict(
        class_names='data/ucf101/ucf101_classes.txt',
        ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
        data_prefix=dict(video='data/ucf101/videos'),
        num_shots=2,
        shot_seed=0))
val_dataloader = dict(
    dataset=dict(
        class_names='data/ucf101/ucf101_classes.txt',
        ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
        data_prefix=dict(video='data/ucf101/videos')))
test_dataloader = dict(
    dataset=dict(
        class_names='data/ucf101/ucf101_classes.txt',
        ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
        data_prefix=dict(video='data/ucf101/videos')))
