# X-CLIP ViT-B/16, 32 frames, few-shot UCF101, K = 4 (official top-1 83.4).
_base_ = ['./vit-b16-32f_ucf101-2shot.py']

train_dataloader = dict(dataset=dict(num_shots=4))
