# ALPRO's pretraining data (salesforce/ALPRO config_release/pretrain_{alpro,prompter}.json,
# src/datasets/dataset_pretrain_sparse.py): WebVid2M video-caption pairs and CC3M image-caption pairs, 4 frames at
# 224 px, 16 samples per GPU from each. The RandomSourceTrainLoop of the configs trains each iteration on a batch of
# one of the two, drawn at random (the official MetaLoader).
#
# Data layout (the official one):
#   data/webvid2m/videos/<video_id>.mp4   the WebVid2M training videos (the official ones are downsampled to 10% FPS)
#   data/webvid2m/txt/train.jsonl         {"clip_name": <video_id>, "caption": <text>} lines, from the official
#                                         data/webvid2m/txt/train.pkl (a pandas DataFrame with video_id, text and
#                                         txt_len; the official loader keeps the rows with txt_len < 80):
#       import json, pandas as pd
#       df = pd.read_pickle('data/webvid2m/txt/train.pkl')
#       df = df[df['txt_len'] < 80]
#       with open('data/webvid2m/txt/train.jsonl', 'w') as f:
#           f.writelines(json.dumps(dict(clip_name=str(v), caption=t.strip())) + '\n'
#                        for v, t in zip(df['video_id'], df['text']))
#   data/cc3m/txt/cc3m.json               the official list [{"image": <path>, "caption": <str>}] (absolute paths)
#   data/alpro_pretrain/unigrams.txt      the entity list of PEM (the official data/unigrams.txt)
num_frames = 4
input_size = 224
pack = dict(type='PackActionInputs', algorithm_keys=('text', 'pem_box', 'source'))

# WebVid (AlproPretrainSparseDataset): decord reads the frames resized to 256 x 256 (aspect ratio not kept), a random
# 224 square crop (VideoRandomSquareCrop, no flip), TemporalConsistentRandomAugment(N=2, M=5) over the official
# ten operations, the same on every frame; 'headtail' frames: 2 of the first half, 2 of the second
video_pipeline = [
    dict(type='DecordInit'),
    dict(type='ALPROSampleFrames', num_frames=num_frames, mode='headtail'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', size=input_size),
    dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PEMRandomBox', patch_size=16), pack
]
# CC3M (PretrainImageTextDataset): torchvision's RandomResizedCrop(224, scale=(0.2, 1.0), bicubic), a flip,
# RandomAugment(2, 7) over eight operations (drawn with replacement, each applied with probability 0.5), then the
# image repeated as a static 4-frame clip
image_ops = ('Identity', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate')
image_pipeline = [
    dict(type='ImageDecode'),
    dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False, interpolation='bicubic'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='TemporalConsistentRandAugment', num_ops=2, magnitude=7, ops=image_ops, apply_prob=0.5, replace=True),
    dict(type='ImageToClip', num_frames=num_frames),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PEMRandomBox', patch_size=16), pack
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VideoTextRetrievalDataset',
        ann_file='data/webvid2m/txt/train.jsonl',
        data_prefix=dict(video='data/webvid2m/videos'),
        source='video',
        pipeline=video_pipeline))
image_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ImageTextDataset', ann_file='data/cc3m/txt/cc3m.json', pipeline=image_pipeline))

# no validation: the official runs only log MLM / VTM / PEM accuracies on a WebVid validation split
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None
