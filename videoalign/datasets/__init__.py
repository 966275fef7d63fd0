"""Datasets and transforms.

``synthetic`` (the generator of the synthetic dataset) is not imported here, so that it runs without mmaction2.
"""
from .transforms import ClipGrayscale, MultiViewSegmentSample
from .video_dataset import VideoDataset, video_is_readable

__all__ = ['VideoDataset', 'video_is_readable', 'MultiViewSegmentSample', 'ClipGrayscale']
