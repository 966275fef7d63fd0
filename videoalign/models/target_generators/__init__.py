"""Target generators: frozen networks that turn inputs into the targets of a pretraining loss (mmpretrain's name).

BEVT's DALL-E dVAE encoder (:class:`DALLETargetGenerator`; its weights: ``videoalign://dalle/dvae-encoder`` through
the ``dvae`` converter). Text tokenizers are not target generators: they live in :mod:`videoalign.models.text`.
"""
from .dalle_target_generator import DALLETargetGenerator

__all__ = ['DALLETargetGenerator']
