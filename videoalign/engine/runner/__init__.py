"""The Runner of videoalign's tools, its training loops and the work-dir lock."""
from .joint_loop import JointEpochBasedTrainLoop
from .loops import ResumableEpochBasedTrainLoop
from .random_source_loop import RandomSourceLoader, RandomSourceTrainLoop, official_epoch_length
from .runner import VideoAlignRunner
from .work_dir_lock import WorkDirInUseError, WorkDirLock

__all__ = [
    'VideoAlignRunner', 'ResumableEpochBasedTrainLoop', 'JointEpochBasedTrainLoop', 'WorkDirLock', 'WorkDirInUseError',
    'RandomSourceTrainLoop', 'RandomSourceLoader', 'official_epoch_length'
]
