# AdamW, linear warm-up for 2.5 epochs, then cosine annealing to 0, per iteration (the CLIP-adaptation recipes).
max_epochs = 30
warmup_epochs = 2.5

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=40, norm_type=2))

# lr above is for a total batch size of 64; --auto-scale-lr scales it to the actual one
auto_scale_lr = dict(enable=False, base_batch_size=64)
