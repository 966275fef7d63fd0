# X-CLIP ViT-B/16, 32 frames, few-shot HMDB51, K = 8 (official top-1 62.8).
_base_ = ['./vit-b16-32f_hmdb51-2shot.py']

train_dataloader = dict(dataset=dict(num_shots=8))
