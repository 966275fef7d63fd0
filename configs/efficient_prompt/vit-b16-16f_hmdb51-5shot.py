# Efficient-Prompt ViT-B/16, 16 frames, few-shot HMDB51 (5-shot, all 51 classes): 5 training videos per class of
# split 1, drawn by VideoDataset(num_shots=5, shot_seed=0); tested on the full test list. The official repository
# ships 10 fixed 5-shot-C-way lists (datasplits/), a different draw; there is no released few-shot recipe (users ask
# for it in issue #9): this is the closed-set recipe for about the same 1,100 iterations (255 videos: 3 per epoch).
_base_ = ['./vit-b16-16f_hmdb51.py']

train_dataloader = dict(dataset=dict(num_shots=5, shot_seed=0))
train_cfg = dict(max_epochs=366, val_begin=1, val_interval=20)
default_hooks = dict(checkpoint=dict(interval=20))
