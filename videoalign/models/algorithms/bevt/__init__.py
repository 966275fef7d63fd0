"""BEVT: BERT pretraining of video transformers (masked image + masked video token modelling)."""
from .bevt_pretrainer import BEVTPretrainer

__all__ = ['BEVTPretrainer']
