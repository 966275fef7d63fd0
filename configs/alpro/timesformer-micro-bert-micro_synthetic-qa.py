# A tiny ALPRO trained from scratch for video question answering on the synthetic clips and their questions ("what
# color is the circle?", "what shape is moving?", "what does the red circle do?": the last needs the order of the
# frames), on CPU: the MSRVTT-QA recipe (official 'rand' / 'uniform' frames, resize without crop; no flip, which
# would swap the answers "move left" and "move right") on a 2-layer TimeSformer (64 px, 16 px patches, 8 frames), a
# 2 + 2-layer BERT, 96 wide, and an MLP classifier over the answers of the training questions (22: 8 colours,
# 4 shapes, 10 motions).
#   python tools/data/synthetic/generate.py        # data/synthetic: videos, questions, ans2label, vocab.txt
#   python tools/train.py configs/alpro/timesformer-micro-bert-micro_synthetic-qa.py --work-dir work_dirs/alpro_micro_qa
#   python tools/test.py configs/alpro/timesformer-micro-bert-micro_synthetic-qa.py \
#       work_dirs/alpro_micro_qa/epoch_15.pth
_base_ = ['../_base_/models/alpro_micro.py', '../_base_/datasets/msrvtt_qa.py', '../_base_/default_runtime.py']

num_frames = 8
input_size = 64
ans2label = 'data/synthetic/synthetic_ans2label.json'
model = dict(
    type='AlproQA',
    visual_encoder=dict(_base_.micro_visual_encoder, num_frames=num_frames),
    text_encoder=_base_.micro_text_encoder,
    tokenizer=_base_.micro_tokenizer,
    answers=ans2label,
    num_classes=22,
    data_preprocessor=_base_.micro_normalisation)

# the synthetic clips and their questions (mmaction2's MSRVTTVQA json with answer_type), at 64 px
data_root = 'data/synthetic/videos'
qa_keys = ('question', 'gt_answer', 'question_id', 'answer_type')
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='rand'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=qa_keys)
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='uniform'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', algorithm_keys=qa_keys)
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_train_qa.json',
        data_prefix=dict(video=data_root),
        ans2label=ans2label,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_val_qa.json',
        data_prefix=dict(video=data_root),
        ans2label=ans2label,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        ann_file='data/synthetic/synthetic_test_qa.json',
        data_prefix=dict(video=data_root),
        ans2label=ans2label,
        pipeline=test_pipeline))
# accuracy overall and per answer type: qa/color_acc, qa/shape_acc, qa/motion_acc
val_evaluator = dict(type='VideoQAAccuracy', answer_types=('color', 'shape', 'motion'))
test_evaluator = val_evaluator

max_epochs = 15
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.),
    clip_grad=dict(max_norm=5., norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(
        type='LinearLR',
        start_factor=1.,
        end_factor=0.,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=5, save_best='qa/acc', rule='greater', max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
