"""Data transforms."""
from .alpro_sample_frames import ALPROSampleFrames
from .clip_grayscale import ClipGrayscale
from .copy_resize import CopyResize
from .frame_feature_decode import FrameFeatureDecode
from .image_to_clip import ImageToClip
from .load_frame_features import LoadFrameFeatures
from .multi_view_segment_sample import MultiViewSegmentSample
from .pca_lighting import PCALighting
from .pem_box import PEMRandomBox
from .random_stride_sample import RandomStrideSample
from .temporal_randaugment import TemporalConsistentRandAugment
from .tube_mask import TubeMaskGenerator

__all__ = [
    'FrameFeatureDecode', 'LoadFrameFeatures', 'MultiViewSegmentSample', 'PCALighting', 'ClipGrayscale',
    'RandomStrideSample', 'CopyResize', 'TubeMaskGenerator', 'ALPROSampleFrames', 'PEMRandomBox', 'ImageToClip',
    'TemporalConsistentRandAugment'
]
