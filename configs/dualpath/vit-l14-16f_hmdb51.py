# DualPath ViT-L/14, 16 frames: vit-b16-16f_hmdb51.py with CLIP ViT-L/14 (a 16 x 16 patch grid, so the frame-index map
# is not resized), the head on 2 x 768 channels and gradient checkpointing; the official code only builds ViT-B/16.
_base_ = ['./vit-b16-16f_hmdb51.py']

clip_checkpoint = 'videoalign://clip/vit-l14'
model = dict(
    backbone=dict(arch='ViT-L/14', with_cp=True, init_cfg=dict(checkpoint=clip_checkpoint)),
    cls_head=dict(in_channels=1536, hidden_channels=768))
