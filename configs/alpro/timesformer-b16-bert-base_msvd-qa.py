# ALPRO open-ended video QA on MSVD-QA (salesforce/ALPRO config_release/msvd_qa.json): the MSRVTT-QA recipe with the
# MSVD videos (<video_id>.avi), 2423 answers, 15 epochs and gradient norm 20. Official result (README, its
# checkpoint): accuracy 45.9.
#   tools/dist_train.sh configs/alpro/timesformer-b16-bert-base_msvd-qa.py 8
#   tools/dist_test.sh configs/alpro/timesformer-b16-bert-base_msvd-qa.py \
#       videoalign://alpro/timesformer-b16-bert-base_msvd-qa 8
_base_ = ['./timesformer-b16-bert-base_msrvtt-qa.py']

data_root = 'data/msvd_qa'
ans2label = f'{data_root}/txt/train_ans2label.json'
video_ext = '.avi'
model = dict(answers=ans2label, num_classes=2423)

train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/txt/train.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        ans2label=ans2label,
        video_ext=video_ext))
val_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/txt/val.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        ans2label=ans2label,
        video_ext=video_ext))
test_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/txt/test.jsonl',
        data_prefix=dict(video=f'{data_root}/videos'),
        ans2label=ans2label,
        video_ext=video_ext))

max_epochs = 15
train_cfg = dict(max_epochs=max_epochs)
# grad_norm 20 on the sum of the 2 accumulated gradients: 10 on mmengine's mean (see the MSRVTT-QA config)
optim_wrapper = dict(clip_grad=dict(max_norm=10.))
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
