# X-CLIP ViT-B/32, 16 frames, Kinetics-400 (official: top-1 81.1 / top-5 95.5, 75 GFLOPs per view).
_base_ = ['./vit-b16-16f_k400.py']

clip_checkpoint = 'videoalign://clip/vit-b32'
model = dict(
    backbone=dict(arch='ViT-B/32', init_cfg=dict(checkpoint=clip_checkpoint)),
    neck=dict(embed_dims=512),
    cls_head=dict(
        in_channels=512,
        text_encoder=dict(arch='ViT-B/32', init_cfg=dict(checkpoint=clip_checkpoint)),
        text_prompt=dict(embed_dims=512, visual_width=768)))
