"""Small parts shared by blocks and models."""
from .adapter import Adapter
from .clip_layers import CLIPResidualBlock, LayerNorm, QuickGELU, clip_mlp
from .grid_frameset import grid_frame_index_map, grid_temporal_encoding, make_grid_frameset, sample_sparse_frames

__all__ = [
    'Adapter', 'CLIPResidualBlock', 'LayerNorm', 'QuickGELU', 'clip_mlp', 'grid_frame_index_map',
    'grid_temporal_encoding', 'make_grid_frameset', 'sample_sparse_frames'
]
