# X-CLIP ViT-L/14, 8 frames, Kinetics-400 (official: top-1 87.1 / top-5 97.6, 658 GFLOPs per view; the official
# README calls it "B/14", its config says ViT-L/14). Total batch 256 = 8 GPUs x 4 x 8 accumulation steps.
_base_ = ['./vit-b16-8f_k400.py']

clip_checkpoint = 'videoalign://clip/vit-l14'
model = dict(
    backbone=dict(arch='ViT-L/14', init_cfg=dict(checkpoint=clip_checkpoint)),
    neck=dict(embed_dims=768),
    cls_head=dict(
        in_channels=768,
        text_encoder=dict(arch='ViT-L/14', init_cfg=dict(checkpoint=clip_checkpoint)),
        text_prompt=dict(embed_dims=768, visual_width=1024)))
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(accumulative_counts=8)
