# Runtime shared by every videoalign config (mmaction2's default_runtime, in videoalign's scope).
default_scope = 'videoalign'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

# Unreadable videos are skipped by videoalign's VideoDataset; this hook counts them in the log.
custom_hooks = [dict(type='SkippedVideoHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches the backend to gloo on machines without CUDA
    dist_cfg=dict(backend='nccl'))

# averaged over the window: mmengine's (losses, times, gradient norm) and the share of iterations of each source of
# RandomSourceTrainLoop (source_<name>)
log_processor = dict(
    type='LogProcessor', window_size=20, by_epoch=True, mean_pattern=r'.*(loss|time|data_time|grad_norm|source_).*')

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
