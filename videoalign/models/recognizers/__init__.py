"""Recognizers: the algorithm-level models, which only orchestrate backbone, neck and head."""
from .video_recognizer import VideoRecognizer

__all__ = ['VideoRecognizer']
