"""Hooks."""
from .checkpoint_hook import SafeCheckpointHook
from .class_names_hook import ClassNamesHook, dataset_classes
from .label_check_hook import LabelCheckHook, check_labels
from .skipped_video_hook import SkippedVideoHook
from .visualization_hook import VideoVisualizationHook
from .weight_sync_check_hook import WeightSyncCheckHook, state_checksum

__all__ = [
    'SafeCheckpointHook', 'ClassNamesHook', 'dataset_classes', 'LabelCheckHook', 'check_labels', 'SkippedVideoHook',
    'WeightSyncCheckHook', 'state_checksum', 'VideoVisualizationHook'
]
