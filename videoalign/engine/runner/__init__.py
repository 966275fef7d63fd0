"""The Runner of videoalign's tools, its training loop and the work-dir lock."""
from .loops import ResumableEpochBasedTrainLoop
from .runner import VideoAlignRunner
from .work_dir_lock import WorkDirInUseError, WorkDirLock

__all__ = ['VideoAlignRunner', 'ResumableEpochBasedTrainLoop', 'WorkDirLock', 'WorkDirInUseError']
