# A tiny ALPRO pretraining on the synthetic clips and their frames as images, on CPU: the WebVid2M + CC3M recipe (MLM +
# VTM + VTC + PEM, each iteration a batch of clips or of images drawn at random, 4 'headtail' frames, the official
# augmentations, PEM boxes on the 16 px patch grid; timesformer-b16-bert-base_webvid2m-cc3m-pretrain.py) at 64 px on
# the micro model, from scratch, with the frozen prompter of timesformer-micro-bert-micro_synthetic-prompter.py. The
# entities are the 16 most frequent words of the training captions (synthetic_unigrams.txt: colours, shapes,
# motions). Differences from the recipe as in the prompter config (no flips, 72 px resize, lr 5e-4, 10 epochs).
#   python tools/data/synthetic/generate.py
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-prompter.py \
#       --work-dir work_dirs/timesformer-micro-bert-micro_synthetic-prompter
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-pretrain.py \
#       --work-dir work_dirs/timesformer-micro-bert-micro_synthetic-pretrain
_base_ = ['./timesformer-micro-bert-micro_synthetic-prompter.py']

num_frames = 4
input_size = 64
prompter_checkpoint = 'work_dirs/timesformer-micro-bert-micro_synthetic-prompter/epoch_10.pth'
visual_encoder = dict(_base_.micro_visual_encoder, num_frames=num_frames)
text_encoder = _base_.micro_text_encoder
model = dict(
    _delete_=True,
    type='AlproPretrainer',
    visual_encoder=visual_encoder,
    text_encoder=text_encoder,
    tokenizer=_base_.micro_tokenizer,
    embed_dim=64,
    prompter=dict(
        type='ALPROPrompter',
        visual_encoder=visual_encoder,
        text_encoder=text_encoder,
        embed_dim=64,  # the tiny prompter's VTC space
        init_cfg=dict(type='Pretrained', checkpoint=prompter_checkpoint)),
    entities='data/synthetic/synthetic_unigrams.txt',
    num_entities=16,
    mlm_probability=0.15,
    pem_loss=dict(type='PEMLoss', ignore_threshold=0.2, ignore_rule='intended'),
    data_preprocessor=_base_.micro_normalisation)

# the prompter's pipelines with the PEM box (16 px patches) before packing
pack = dict(type='PackActionInputs', algorithm_keys=('text', 'pem_box', 'source'))
pem_box = dict(type='PEMRandomBox', patch_size=16)
train_dataloader = dict(dataset=dict(pipeline=_base_.video_pipeline[:-1] + [pem_box, pack]))
image_dataloader = dict(
    _base_.image_dataloader,
    dataset=dict(_base_.image_dataloader.dataset, pipeline=_base_.image_pipeline[:-1] + [pem_box, pack]))
train_cfg = dict(other_loaders=[image_dataloader], val_begin=1, val_interval=1)
# no validation (the pretraining model does not rank)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None
optim_wrapper = dict(accumulative_counts=1)
default_hooks = dict(checkpoint=dict(interval=5, save_best=None, max_keep_ckpts=1))
