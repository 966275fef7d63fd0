"""ALPRO: video-language pretraining with VTC, VTM, MLM and PEM; text-video retrieval and video question answering."""
from .alpro_retrieval import AlproRetrieval

__all__ = ['AlproRetrieval']
