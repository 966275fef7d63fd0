# Zero-shot MSR-VTT retrieval with the ALPRO pretraining checkpoint (no fine-tuning), on the 1k-A test split:
#   python tools/test.py configs/alpro/timesformer-b16-bert-base_msrvtt-retrieval-zeroshot.py \
#       videoalign://alpro/timesformer-b16-bert-base_pretrain
# The paper reports R@1 24.1, R@5 44.7 on the test split (issue #8 of salesforce/ALPRO).
_base_ = ['./timesformer-b16-bert-base_msrvtt-retrieval.py']

load_from = 'videoalign://alpro/timesformer-b16-bert-base_pretrain'
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
