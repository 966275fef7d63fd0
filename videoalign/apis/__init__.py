"""High-level APIs: model building, inference, text-to-video search and model-zoo checkpoints by name."""
from ..hub import get_checkpoint, get_config_path, get_model_info, list_models, load_checkpoint
from .indexing import index_videos
from .inference import inference_video, init_model
from .retrieval import IndexMismatchError, encode_text, encode_video
from .video_index import VideoIndex, check_index, rank_videos, search_videos

__all__ = [
    'init_model', 'inference_video', 'list_models', 'get_model_info', 'get_config_path', 'get_checkpoint',
    'load_checkpoint', 'encode_video', 'encode_text', 'search_videos', 'rank_videos', 'index_videos', 'check_index',
    'VideoIndex', 'IndexMismatchError'
]
