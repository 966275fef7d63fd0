"""Metrics."""
from .acc_metric import AccMetric
from .dump_results import AtomicDumpResults

__all__ = ['AccMetric', 'AtomicDumpResults']
