# Efficient-Prompt ViT-B/16, 16 frames, zero-shot UCF101, training part: train on 51 "seen" classes of split 1;
# vit-b16-16f_zeroshot-ucf101-unseen.py tests on the 50 others. Write the split first (half of the classes, seed 0):
#   python tools/data/split_classes.py data/ucf101/ucf101_classes.txt data/ucf101/ucf101_train_split_1_videos.txt \
#       data/ucf101/ucf101_val_split_1_videos.txt --out-dir data/ucf101/zeroshot_split_0 --seed 0
# Not released: the HMDB51 closed-set recipe on the seen classes.
_base_ = ['./vit-b16-16f_ucf101.py']

split_dir = 'data/ucf101/zeroshot_split_0'
train_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/ucf101_train_split_1_videos_seen.txt'))
val_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/ucf101_val_split_1_videos_seen.txt'))
test_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/ucf101_val_split_1_videos_seen.txt'))
