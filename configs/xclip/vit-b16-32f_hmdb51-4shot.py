# X-CLIP ViT-B/16, 32 frames, few-shot HMDB51, K = 4 (official top-1 57.3).
_base_ = ['./vit-b16-32f_hmdb51-2shot.py']

train_dataloader = dict(dataset=dict(num_shots=4))
