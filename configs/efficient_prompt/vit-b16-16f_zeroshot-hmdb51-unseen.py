# Efficient-Prompt ViT-B/16, 16 frames, zero-shot HMDB51, test part: the model trained by
# vit-b16-16f_zeroshot-hmdb51-seen.py scores the 25 held-out classes (their names through the learned prompt) on their
# test videos. Test only:
#   python tools/test.py configs/efficient_prompt/vit-b16-16f_zeroshot-hmdb51-unseen.py \
#       work_dirs/vit-b16-16f_zeroshot-hmdb51-seen/best_acc_top1_epoch_N.pth
_base_ = ['./vit-b16-16f_zeroshot-hmdb51-seen.py']

split_dir = 'data/hmdb51/zeroshot_split_0'
test_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/unseen_classes.txt', ann_file=split_dir + '/hmdb51_val_split_1_videos_unseen.txt'))
