# The schedule both BEVT fine-tunes share (official configs swin_base_patch244_window{877,1677}_bevt_finetune_*.py):
# 60 epochs, validation every 5, seed 0. The optimizers differ (in each config).
# mmcv's lr_config(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True, warmup_iters=2.5):
# cosine over all epochs, stepped per epoch, times a linear warm-up from 0.1 per iteration over the first 2.5 epochs
max_epochs = 60
warmup_epochs = 2.5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs)
]
randomness = dict(seed=0)  # the official command's --seed 0
