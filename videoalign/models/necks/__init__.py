"""Necks: turn per-frame features into one video feature."""
from .mit import MultiframeIntegrationTransformer
from .pool_projection import PoolProjection
from .temporal_transformer import TemporalTransformer

__all__ = ['MultiframeIntegrationTransformer', 'PoolProjection', 'TemporalTransformer']
