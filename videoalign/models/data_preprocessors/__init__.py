"""Data preprocessors: stack, move and normalise collated batches on the model's device."""
from .bevt_data_preprocessor import BEVTDataPreprocessor

__all__ = ['BEVTDataPreprocessor']
