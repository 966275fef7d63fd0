"""Data transforms."""
from .multi_view_segment_sample import MultiViewSegmentSample
from .random_grayscale import RandomGrayscale

__all__ = ['MultiViewSegmentSample', 'RandomGrayscale']
