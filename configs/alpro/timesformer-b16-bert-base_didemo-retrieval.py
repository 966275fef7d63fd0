# ALPRO paragraph-to-video retrieval on DiDeMo (salesforce/ALPRO config_release/didemo_ret.json): each video's
# sentences joined into one paragraph, text length 50; 8 GPUs x 12 clips, 10 epochs, lr 4e-5, gradient norm 20.
_base_ = ['./timesformer-b16-bert-base_msrvtt-retrieval.py']

model = dict(tokenizer=dict(max_length=50))

data_root = 'data/didemo_ret'
train_dataloader = dict(
    batch_size=12,
    dataset=dict(
        ann_file=f'{data_root}/txt/train.jsonl', data_prefix=dict(video=f'{data_root}/videos'), paragraph=True))
val_dataloader = dict(
    batch_size=12,
    dataset=dict(ann_file=f'{data_root}/txt/val.jsonl', data_prefix=dict(video=f'{data_root}/videos'), paragraph=True))
test_dataloader = dict(
    batch_size=12,
    dataset=dict(ann_file=f'{data_root}/txt/test.jsonl', data_prefix=dict(video=f'{data_root}/videos'), paragraph=True))

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=4e-5), clip_grad=dict(max_norm=20.))
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
# 8 GPUs x 12 clips
auto_scale_lr = dict(enable=False, base_batch_size=96)
