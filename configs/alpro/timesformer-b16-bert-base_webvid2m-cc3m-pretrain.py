# ALPRO pretraining (salesforce/ALPRO config_release/pretrain_alpro.json, run_scripts/pt_alpro.sh): MLM + VTM + VTC +
# PEM, an unweighted sum, on WebVid2M + CC3M; each iteration one source drawn at random (MetaLoader), 4 'headtail'
# frames at 224 px, text length 30; 16 GPUs x 16 samples, 10 epochs, AdamW lr 1e-4, 5% linear warm-up then linear
# decay, gradient norm clipped at 20. PEM: 1000 entities (the first token of the first 1000 lines of the unigram
# file), pseudo-labels from the frozen prompter of timesformer-b16-bert-base_webvid2m-cc3m-prompter.py, the box of
# PEMRandomBox (16 px patches).
#   tools/dist_train.sh configs/alpro/timesformer-b16-bert-base_webvid2m-cc3m-prompter.py 8   # first, the prompter
#   tools/dist_train.sh configs/alpro/timesformer-b16-bert-base_webvid2m-cc3m-pretrain.py 16
# Initialisation, as the official run: BERT-base with its MLM head from bert-base-uncased (model zoo
# `bert-base-uncased/weights`), the TimeSformer from ImageNet ViT-B/16 (timm's `vit_base_patch16_224`, temporal
# attention copied from the spatial one: model zoo `timm/vit-base-p16-224_in1k`), the prompter from the prompter run's
# last checkpoint (the whole prompter, so its TimeSformer has no init of its own).
_base_ = ['../_base_/datasets/webvid2m_cc3m_pretrain.py', '../_base_/default_runtime.py']

num_frames = 4
bert_weights = 'videoalign://bert-base-uncased/weights'
vit_weights = 'videoalign://timm/vit-base-p16-224_in1k'
# the last checkpoint of the prompter run (tools/train.py's default work_dir)
prompter_checkpoint = 'work_dirs/timesformer-b16-bert-base_webvid2m-cc3m-prompter/epoch_10.pth'
visual_encoder = dict(type='ALPROTimeSformer', num_frames=num_frames, img_size=224, drop_path_rate=0.1)
model = dict(
    type='AlproPretrainer',
    visual_encoder=dict(visual_encoder, init_cfg=dict(type='Pretrained', checkpoint=vit_weights)),
    # BERT-base split at layer 6, with its MLM head
    text_encoder=dict(type='ALPROBert', fusion_layer=6, init_cfg=dict(type='Pretrained', checkpoint=bert_weights)),
    tokenizer=dict(type='ALPROTokenizer', vocab='videoalign://bert-base-uncased/vocab', max_length=30),
    prompter=dict(
        type='ALPROPrompter',
        visual_encoder=visual_encoder,
        text_encoder=dict(type='ALPROBert', fusion_layer=6),
        init_cfg=dict(type='Pretrained', checkpoint=prompter_checkpoint)),
    entities='data/alpro_pretrain/unigrams.txt',
    num_entities=1000,
    mlm_probability=0.15,
    # PEM ignores a sample whose top entity probability is below 0.2: the rule the official comment states, not
    # the code's comparison of the argmax index with 0.2
    pem_loss=dict(type='PEMLoss', ignore_threshold=0.2, ignore_rule='intended'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        format_shape='NCTHW'))

max_epochs = 10
train_cfg = dict(
    type='RandomSourceTrainLoop',
    other_loaders=[_base_.image_dataloader],
    source_names=('video', 'image'),
    max_epochs=max_epochs)
# ALPRO's optimizer: its own AdamW (eps 1e-6), betas (0.9, 0.98), no weight decay (config_release's 1e-3 never reaches
# it); the prompter's parameters get no gradient
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    clip_grad=dict(max_norm=20., norm_type=2))
# get_lr_sched(decay='linear', warmup_ratio=0.05) over RandomSourceTrainLoop's epochs
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
# 16 GPUs x 16 samples
auto_scale_lr = dict(enable=False, base_batch_size=256)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=1, save_best=None, max_keep_ckpts=2))
# the frozen prompter takes part in no loss
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
randomness = dict(seed=42)
