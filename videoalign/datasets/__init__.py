"""Datasets and transforms.

``synthetic`` (the generator of the synthetic dataset) is not imported here, so that it runs without mmaction2.
"""
from .image_list_dataset import ImageListDataset, image_is_readable
from .image_text_dataset import ImageTextDataset
from .transforms import ALPROSampleFrames, ClipGrayscale, CopyResize, MultiViewSegmentSample, TubeMaskGenerator
from .video_dataset import VideoDataset, video_is_readable
from .video_qa_dataset import VideoQADataset
from .video_text_retrieval_dataset import VideoTextRetrievalDataset

__all__ = [
    'VideoDataset', 'video_is_readable', 'ImageListDataset', 'image_is_readable', 'MultiViewSegmentSample',
    'ClipGrayscale', 'CopyResize', 'TubeMaskGenerator', 'VideoTextRetrievalDataset', 'ALPROSampleFrames',
    'VideoQADataset', 'ImageTextDataset'
]
