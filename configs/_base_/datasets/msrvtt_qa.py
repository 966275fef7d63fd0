# MSRVTT-QA as ALPRO reads it (salesforce/ALPRO config_release/msrvtt_qa.json, src/tasks/run_video_qa.py): its
# question files data/msrvtt_qa/txt/{train,val,test}.jsonl ({"video_id", "question", "answer", "answer_type"} lines),
# the answer vocabulary train_ans2label.json ({answer: label}, 1500 answers) and the videos (<video_id>.mp4); 16
# frames at 224 px. Training leaves out the questions whose answer is not in the vocabulary; evaluation keeps them
# (they count as wrong) and reports the accuracy overall and per answer type (the question word), as ALPRO.
dataset_type = 'VideoQADataset'
data_root = 'data/msrvtt_qa'
ans2label = f'{data_root}/txt/train_ans2label.json'
video_ext = '.mp4'
num_frames = 16
input_size = 224
qa_keys = ('question', 'gt_answer', 'question_id', 'answer_type')

# official: decord decodes straight to 224 x 224; 'rand' frames (sorted, without repetition) in training, 'uniform'
# in evaluation. AlproVideoQADataset augments each training clip with TemporalConsistentRandomAugment(N=2, M=5)
# over [Identity, Contrast, Brightness, Sharpness, ShearX, ShearY, TranslateX, TranslateY, Rotate, HorizontalFlip]
# (the default operations of TemporalConsistentRandAugment): two distinct operations, the same on every frame.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='rand'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=5),
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
    batch_size=12,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/txt/train.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        ans2label=ans2label,
        video_ext=video_ext,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=12,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/txt/val.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        ans2label=ans2label,
        video_ext=video_ext,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file=f'{data_root}/txt/test.jsonl'))

# exact-match accuracy, overall (qa/acc) and per answer type (qa/what_acc, ...), ALPRO's MSRVTT-QA / MSVD-QA types
val_evaluator = dict(type='VideoQAAccuracy', answer_types=('what', 'who', 'how', 'where', 'when'))
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
