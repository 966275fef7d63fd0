"""Evaluation metrics."""
from .metrics import AccMetric, AtomicDumpResults

__all__ = ['AccMetric', 'AtomicDumpResults']
