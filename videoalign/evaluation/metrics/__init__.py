"""Metrics."""
from .acc_metric import AccMetric
from .dump_results import AtomicDumpResults
from .qa_accuracy import VideoQAAccuracy
from .retrieval_metric import RetrievalRankMetric

__all__ = ['AccMetric', 'AtomicDumpResults', 'RetrievalRankMetric', 'VideoQAAccuracy']
