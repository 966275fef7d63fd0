"""Small parts shared by blocks and models (CLIP's own layers are in :mod:`videoalign.models.clip`)."""
from .adapter import Adapter
from .grid_frameset import grid_frame_index_map, grid_temporal_encoding, make_grid_frameset, sample_sparse_frames
from .similarity import scaled_cosine_similarity

__all__ = [
    'Adapter', 'grid_frame_index_map', 'grid_temporal_encoding', 'make_grid_frameset', 'sample_sparse_frames',
    'scaled_cosine_similarity'
]
