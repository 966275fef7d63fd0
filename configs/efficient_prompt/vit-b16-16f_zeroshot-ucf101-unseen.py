# Efficient-Prompt ViT-B/16, 16 frames, zero-shot UCF101, test part: the model trained by
# vit-b16-16f_zeroshot-ucf101-seen.py scores the 50 held-out classes on their test videos. Test only:
#   python tools/test.py configs/efficient_prompt/vit-b16-16f_zeroshot-ucf101-unseen.py CHECKPOINT
_base_ = ['./vit-b16-16f_zeroshot-ucf101-seen.py']

split_dir = 'data/ucf101/zeroshot_split_0'
test_dataloader = dict(
    dataset=dict(
        class_names=split_dir + '/unseen_classes.txt', ann_file=split_dir + '/ucf101_val_split_1_videos_unseen.txt'))
