# X-CLIP ViT-B/16, 32 frames, few-shot HMDB51: K = 2 videos per class of split 1, trained from CLIP (official
# top-1 53.0); the -4shot, -8shot and -16shot configs change K. VideoDataset(num_shots, shot_seed) draws the K videos
# (the same list, K and seed give the same subset). The official few-shot recipe: lr 2e-6, 50 epochs.
_base_ = ['./vit-b16-32f_k400.py']

model = dict(
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=51),
            dict(type='CutmixBlending', alpha=1.0, num_classes=51)
        ])))
train_dataloader = dict(
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_train_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos'),
        num_shots=2,
        shot_seed=0))
val_dataloader = dict(
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_val_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos')))
test_dataloader = dict(
    dataset=dict(
        class_names='data/hmdb51/hmdb51_classes.txt',
        ann_file='data/hmdb51/hmdb51_val_split_1_videos.txt',
        data_prefix=dict(video='data/hmdb51/videos')))
optim_wrapper = dict(optimizer=dict(lr=2e-6))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 5,
        eta_min_ratio=0.01,
        by_epoch=True,
        begin=5,
        end=max_epochs,
        convert_to_iter_based=True)
]
