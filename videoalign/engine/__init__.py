"""Training machinery: hooks, optimizer constructors and the Runner set-up used by the tools."""
from .hooks import SkippedVideoHook, WeightSyncCheckHook
from .optimizers import MultiplierOptimWrapperConstructor
from .runner_builder import build_runner, default_work_dir, load_config

__all__ = [
    'SkippedVideoHook', 'WeightSyncCheckHook', 'MultiplierOptimWrapperConstructor', 'build_runner', 'default_work_dir',
    'load_config'
]
