"""High-level APIs: model building and inference."""
from .inference import inference_video, init_model

__all__ = ['init_model', 'inference_video']
