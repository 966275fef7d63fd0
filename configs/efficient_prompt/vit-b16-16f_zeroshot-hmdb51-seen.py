# Efficient-Prompt ViT-B/16, 16 frames, zero-shot HMDB51, training part: train on 26 "seen" classes of split 1 and
# validate on the seen classes of the test list; vit-b16-16f_zeroshot-hmdb51-unseen.py then tests the trained model on
# the 25 other classes, which it never saw. Write the class split and the lists first (half of the classes, seed 0):
#   python tools/data/split_classes.py data/hmdb51/hmdb51_classes.txt data/hmdb51/hmdb51_train_split_1_videos.txt \
#       data/hmdb51/hmdb51_val_split_1_videos.txt --out-dir data/hmdb51/zeroshot_split_0 --seed 0
# Not released: the HMDB51 closed-set recipe on the seen classes (1,820 videos: 28 iterations per epoch).
_base_ = ['./vit-b16-16f_hmdb51.py']

split_dir = 'data/hmdb51/zeroshot_split_0'
train_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/hmdb51_train_split_1_videos_seen.txt'))
val_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/hmdb51_val_split_1_videos_seen.txt'))
test_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/seen_classes.txt', ann_file=split_dir + '/hmdb51_val_split_1_videos_seen.txt'))
