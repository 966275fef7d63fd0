"""Algorithm-level models that are not recognizers, one folder per method (``algorithms/<method>/``).

Like :mod:`~videoalign.models.recognizers`, they only orchestrate registered parts (backbone, necks, heads, losses,
target generators): BEVT's joint image + video pretrainer, and ALPRO's pretraining, retrieval and video
question-answering models. One place for both, by method, rather than mmaction2's ``multimodal/`` (BEVT is not
multimodal) or mmpretrain's split into ``selfsup/`` and ``multimodal/`` (two rooms for one role).
"""
from .alpro import AlproPretrainer, AlproQA, AlproRetrieval
from .bevt import BEVTPretrainer

__all__ = ['AlproRetrieval', 'AlproPretrainer', 'AlproQA', 'BEVTPretrainer']
