# X-CLIP ViT-B/16, 8 frames, Kinetics-600 (official: top-1 85.3 / top-5 97.1, 145 GFLOPs per view).
_base_ = ['./vit-b16-8f_k400.py']

model = dict(
    data_preprocessor=dict(
        blending=dict(augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=600),
            dict(type='CutmixBlending', alpha=1.0, num_classes=600)
        ])))
train_dataloader = dict(
    dataset=dict(
        class_names='data/kinetics600/label_map_k600.txt',
        ann_file='data/kinetics600/kinetics600_train_list_videos.txt',
        data_prefix=dict(video='data/kinetics600/videos_train')))
val_dataloader = dict(
    dataset=dict(
        class_names='data/kinetics600/label_map_k600.txt',
        ann_file='data/kinetics600/kinetics600_val_list_videos.txt',
        data_prefix=dict(video='data/kinetics600/videos_val')))
test_dataloader = dict(
    dataset=dict(
        class_names='data/kinetics600/label_map_k600.txt',
        ann_file='data/kinetics600/kinetics600_val_list_videos.txt',
        data_prefix=dict(video='data/kinetics600/videos_val')))
