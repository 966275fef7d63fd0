"""Evaluation metrics."""
from .metrics import AccMetric

__all__ = ['AccMetric']
