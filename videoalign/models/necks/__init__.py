"""Necks: turn per-frame features into one video feature."""
from .mit import MultiframeIntegrationTransformer

__all__ = ['MultiframeIntegrationTransformer']
