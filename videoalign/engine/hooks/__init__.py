"""Hooks."""
from .skipped_video_hook import SkippedVideoHook
from .weight_sync_check_hook import WeightSyncCheckHook, state_checksum

__all__ = ['SkippedVideoHook', 'WeightSyncCheckHook', 'state_checksum']
