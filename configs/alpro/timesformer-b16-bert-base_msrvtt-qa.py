# ALPRO open-ended video QA on MSRVTT-QA (salesforce/ALPRO config_release/msrvtt_qa.json): fine-tuned from the ALPRO
# pretraining checkpoint; the question (text length 40) and 16 frames at 224 px fused by BERT's last 6 layers, an MLP
# classifier over the 1500 answers of train_ans2label.json on the fused CLS token, cross-entropy. 8 GPUs x 12 clips
# with 2 accumulation steps (192 per update), 10 epochs, AdamW lr 5e-5, 10% linear warm-up then linear decay,
# activation checkpointing in the TimeSformer. Official result (README, its checkpoint): accuracy 42.1.
#   tools/dist_train.sh configs/alpro/timesformer-b16-bert-base_msrvtt-qa.py 8
#   tools/dist_test.sh configs/alpro/timesformer-b16-bert-base_msrvtt-qa.py \
#       videoalign://alpro/timesformer-b16-bert-base_msrvtt-qa 8
_base_ = ['../_base_/datasets/msrvtt_qa.py', '../_base_/default_runtime.py']

# the bert-base-uncased vocabulary, downloaded once through the model zoo (configs/pretrained/metafile.yml)
bert_vocab = 'videoalign://bert-base-uncased/vocab'
num_frames = 16
model = dict(
    type='AlproQA',
    # TimeSformer-B/16 (divided space-time); ALPRO's QA config (timesformer_divst_8x32_224_k600_gc.json) turns on
    # gradient checkpointing
    visual_encoder=dict(type='ALPROTimeSformer', num_frames=num_frames, img_size=224, drop_path_rate=0.1, with_cp=True),
    # BERT-base's shape (BertConfig defaults: vocabulary 30522, 768 wide, 12 layers), split at layer 6
    text_encoder=dict(type='ALPROBert', fusion_layer=6),
    tokenizer=dict(type='ALPROTokenizer', vocab=bert_vocab, max_length=40),
    # ALPRO sizes the classifier max(len(ans2label), 1500); the file is read when the model predicts
    answers='data/msrvtt_qa/txt/train_ans2label.json',
    num_classes=1500,
    hidden_scale=2,
    loss_cls=dict(type='CrossEntropyLoss'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        format_shape='NCTHW'))
# the ALPRO pretraining checkpoint (time_embed resized from 4 to 16 frames on load; its temp, projections and
# itm_head are not keys of AlproQA, and the classifier starts at random, as in ALPRO's non-strict load)
load_from = 'videoalign://alpro/timesformer-b16-bert-base_pretrain'

max_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
# ALPRO's optimizer: its own AdamW (eps 1e-6), betas (0.9, 0.98). config_release sets weight_decay 1e-3, but
# setup_e2e_optimizer never passes it and that AdamW defaults to 0: the official runs had no weight decay.
# Gradients of 2 batches are accumulated. ALPRO sums them and clips the sum's norm at grad_norm 5; mmengine averages
# them (each loss / accumulative_counts), so the same clipping is max_norm 5 / 2 (Adam's update does not depend on
# the scale of the gradient).
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    accumulative_counts=2,
    clip_grad=dict(max_norm=2.5, norm_type=2))
# get_lr_sched(decay='linear', warmup_ratio=0.1): linear warm-up from 0 over 10% of the steps, then linear to 0
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=0.1 * max_epochs, convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.,
        end_factor=0.,
        by_epoch=True,
        begin=0.1 * max_epochs,
        end=max_epochs,
        convert_to_iter_based=True)
]
# 8 GPUs x 12 clips per iteration (x 2 accumulated iterations per update)
auto_scale_lr = dict(enable=False, base_batch_size=96)
default_hooks = dict(checkpoint=dict(interval=1, save_best='qa/acc', rule='greater', max_keep_ckpts=2))
randomness = dict(seed=42)
