# Efficient-Prompt ViT-B/16, 16 frames, UCF101 split 1, closed set. Not released: the HMDB51 recipe (batch 64, AdamW
# lr 1e-4, constant lr, 20 epochs) applied to UCF101 (149 iterations per epoch). Class names: give readable ones
# ("apply eye makeup", not "ApplyEyeMakeup"): they are what the text encoder reads.
_base_ = ['./vit-b16-16f_hmdb51.py']

train_dataloader = dict(
    dataset=dict(
        class_names='data/ucf101/ucf101_classes.txt',
        ann_file='data/ucf101/ucf101_train_split_1_videos.txt',
        data_prefix=dict(video='data/ucf101/videos')))
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
