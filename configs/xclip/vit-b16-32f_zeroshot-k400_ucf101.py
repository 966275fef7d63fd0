# X-CLIP zero-shot on UCF101 (official top-1 72.0): the K400-trained ViT-B/16 32-frame model (vit-b16-32f_k400.py, or
# the official zero.pth through tools/convert/convert.py xclip) scores class names it never saw; the official protocol
# averages the 3 splits (split 1 here). Test only: tools/test.py CONFIG CHECKPOINT.
_base_ = ['./vit-b16-32f_zeroshot-k400_hmdb51.py']

test_dataloader = dict(
    dataset=dict(
        class_names='data/ucf101/ucf101_classes.txt',
        ann_file='data/ucf101/ucf101_val_split_1_videos.txt',
        data_prefix=dict(video='data/ucf101/videos')))
