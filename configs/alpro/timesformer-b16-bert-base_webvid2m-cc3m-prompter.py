# ALPRO's prompter (salesforce/ALPRO config_release/pretrain_prompter.json, run_scripts/pt_prompter.sh): the video-text
# model trained with VTC only (use_itc 1, use_itm 0, use_mlm 0) on WebVid2M + CC3M; ALPRO's pretraining loads it,
# frozen, to make the PEM pseudo-labels (timesformer-b16-bert-base_webvid2m-cc3m-pretrain.py). 4 'headtail' frames at
# 224 px, text length 30; 8 GPUs x 16 samples, 2 forwards per step (each step from one source: draw_every follows
# accumulative_counts), 10 epochs, AdamW lr 1e-4, 5% linear warm-up then linear decay, gradient norm clipped at 20.
#   tools/dist_train.sh configs/alpro/timesformer-b16-bert-base_webvid2m-cc3m-prompter.py 8
# Initialisation, as the official run: BERT-base from bert-base-uncased (model zoo `bert-base-uncased/weights`), the
# TimeSformer from ImageNet ViT-B/16 (timm's `vit_base_patch16_224`, jx_vit_base_p16_224-80ecf9dd.pth, spatial
# attention and norm1 copied to the temporal ones, time_embed and temporal_fc zero: model zoo
# `timm/vit-base-p16-224_in1k`, converter alpro_imagenet_vit).
_base_ = [
    '../_base_/models/alpro_timesformer-b16_bert-base.py', '../_base_/datasets/webvid2m_cc3m_pretrain.py',
    '../_base_/default_runtime.py'
]

num_frames = 4
model = dict(
    visual_encoder=dict(
        num_frames=num_frames, init_cfg=dict(type='Pretrained', checkpoint='videoalign://timm/vit-base-p16-224_in1k')),
    text_encoder=dict(init_cfg=dict(type='Pretrained', checkpoint='videoalign://bert-base-uncased/weights')),
    tokenizer=dict(max_length=30),
    vtm_loss=None,
    inference=dict(mode='vtc'))

# VTC needs no PEM box: the pretraining pipelines without PEMRandomBox, packing the text and the source
vtc_pack = dict(type='PackActionInputs', algorithm_keys=('text', 'source'))
train_dataloader = dict(dataset=dict(pipeline=_base_.video_pipeline[:-2] + [vtc_pack]))
image_dataloader = dict(
    _base_.image_dataloader,
    dataset=dict(_base_.image_dataloader.dataset, pipeline=_base_.image_pipeline[:-2] + [vtc_pack]))

max_epochs = 10
train_cfg = dict(
    type='RandomSourceTrainLoop',
    other_loaders=[image_dataloader],
    source_names=('video', 'image'),
    max_epochs=max_epochs)
# ALPRO's optimizer: its own AdamW (eps 1e-6), betas (0.9, 0.98); config_release's weight_decay 1e-3 never reaches it
# (setup_e2e_optimizer does not pass it; see timesformer-b16-bert-base_msrvtt-retrieval.py)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    accumulative_counts=2,
    clip_grad=dict(max_norm=20., norm_type=2))
# get_lr_sched(decay='linear', warmup_ratio=0.05): linear warm-up from 0 over 5% of the steps, then linear to 0; the
# epochs are RandomSourceTrainLoop's (ceil(sum(len(dataset) / batch_size) / world_size) iterations)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=0.05 * max_epochs, convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.,
        end_factor=0.,
        by_epoch=True,
        begin=0.05 * max_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
# 8 GPUs x 16 samples x 2 accumulated forwards
auto_scale_lr = dict(enable=False, base_batch_size=256)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1, save_best=None, max_keep_ckpts=2))
# itm_head is built but VTC-only training never uses it
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
randomness = dict(seed=42)
