"""Training machinery: the Runner of the tools, its loop, hooks and optimizer constructors."""
from .hooks import (ClassNamesHook, LabelCheckHook, SafeCheckpointHook, SkippedVideoHook, VideoVisualizationHook,
                    WeightSyncCheckHook)
from .optimizers import MultiplierOptimWrapperConstructor
from .runner import ResumableEpochBasedTrainLoop, VideoAlignRunner, WorkDirInUseError, WorkDirLock
from .runner_builder import build_runner, default_work_dir, load_config

__all__ = [
    'SkippedVideoHook', 'WeightSyncCheckHook', 'VideoVisualizationHook', 'SafeCheckpointHook', 'ClassNamesHook',
    'LabelCheckHook', 'MultiplierOptimWrapperConstructor', 'VideoAlignRunner', 'ResumableEpochBasedTrainLoop',
    'WorkDirLock', 'WorkDirInUseError', 'build_runner', 'default_work_dir', 'load_config'
]
