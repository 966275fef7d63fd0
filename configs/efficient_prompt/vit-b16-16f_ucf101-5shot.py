# Efficient-Prompt ViT-B/16, 16 frames, few-shot UCF101 (5-shot, all 101 classes): 5 training videos per class of
# split 1 (VideoDataset(num_shots=5, shot_seed=0)); no released recipe: the closed-set one for 1,099 iterations
# (505 videos: 7 per epoch).
_base_ = ['./vit-b16-16f_ucf101.py']

train_dataloader = dict(dataset=dict(num_shots=5, shot_seed=0))
train_cfg = dict(max_epochs=157, val_begin=1, val_interval=10)
default_hooks = dict(checkpoint=dict(interval=10))
