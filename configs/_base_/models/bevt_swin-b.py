# BEVT's fine-tune model (official configs/_base_/models/swin/swin_base.py with the BEVT fine-tune settings of
# Kinetics-400): mmaction2's Video Swin-B + I3DHead, initialised from the joint pretraining checkpoint. The
# Something-Something V2 config overrides the window, drop path, classes, label smoothing and checkpoint.

# The joint pretraining checkpoint as the fine-tune initialisation: the `bevt_finetune` converter's `backbone.*` keys
# of mmaction2's SwinTransformer3D (decoders, patch_embed_2d, mask_token and the head dropped; `norm` -> `norm3`).
# Not `bevt/swin-b_joint-pretrain_k400-in1k`, which holds the pretrainer's keys (converter `bevt_pretrain`).
bevt_checkpoint = 'videoalign://bevt/swin-b_joint-pretrain_k400-in1k_finetune-init'

model = dict(
    type='VideoRecognizer',
    backbone=dict(
        type='SwinTransformer3D',
        arch='base',  # embed_dims 128, depths (2, 2, 18, 2), heads (4, 8, 16, 32)
        patch_size=(2, 4, 4),
        window_size=(8, 7, 7),
        drop_path_rate=0.3,
        pretrained2d=False,
        out_indices=(3, ),  # the last stage, normalised by `norm3` (the official `norm`)
        # as the official init_weights: every Linear / LayerNorm initialised, then the checkpoint loaded over them
        init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
            dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
            dict(type='Pretrained', checkpoint=bevt_checkpoint, prefix='backbone.')
        ]),
    cls_head=dict(
        type='I3DHead',
        in_channels=1024,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet's statistics, RGB
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'),
    # the 12 test views of a video go through the backbone 4 at a time (needs a val/test batch size of 1)
    test_cfg=dict(max_testing_views=4))
