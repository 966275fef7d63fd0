"""High-level APIs: model building, inference, and model-zoo checkpoints by name."""
from ..hub import get_checkpoint, get_config_path, get_model_info, list_models, load_checkpoint
from .inference import inference_video, init_model

__all__ = [
    'init_model', 'inference_video', 'list_models', 'get_model_info', 'get_config_path', 'get_checkpoint',
    'load_checkpoint'
]
