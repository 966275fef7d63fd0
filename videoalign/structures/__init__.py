"""Data structures that pass between the parts of a model: :class:`VideoFeatures`, named backbone outputs."""
from .video_features import TENSOR_FIELDS, BackboneOutput, VideoFeatures

__all__ = ['VideoFeatures', 'TENSOR_FIELDS', 'BackboneOutput']
