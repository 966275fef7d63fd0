# X-CLIP zero-shot on K600 (official top-1 65.2): the K400-trained ViT-B/16 32-frame model (vit-b16-32f_k400.py, or the
# official zero.pth through tools/convert/convert.py xclip) scores class names it never saw; the 220 K600 classes absent
# from K400; the official protocol averages 3 random subsets of 160 of them. Test only: tools/test.py CONFIG CHECKPOINT.
_base_ = ['./vit-b16-32f_zeroshot-k400_hmdb51.py']

test_dataloader = dict(
    dataset=dict(
        class_names='data/kinetics600/k600_novel_classes.txt',
        ann_file='data/kinetics600/kinetics600_novel_val_list_videos.txt',
        data_prefix=dict(video='data/kinetics600/videos_val')))
