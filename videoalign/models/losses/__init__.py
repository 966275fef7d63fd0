"""Losses, registered in ``MODELS`` as mmaction2's are (``loss_cls=dict(type=...)`` in a head's config).

The classification heads of the CLIP-adaptation methods use mmaction2's ``CrossEntropyLoss``, which takes hard and
soft (mixup, cutmix, label smoothing) targets. The video-language losses come here, one file each: NCE over
similarities, ALPRO's video-text contrastive (VTC, on :func:`~videoalign.models.layers.scaled_cosine_similarity`)
and matching (VTM) losses, masked language modelling (MLM), prompting entity modelling (PEM), and BEVT's masked-token
cross-entropy.
"""
from .mlm_loss import MLMLoss
from .pem_loss import PEMLoss, pem_loss, pem_pseudo_labels
from .vtc_loss import (VTCLoss, VTCSimilarities, all_gather_with_grad, clamp_temperature_, vtc_loss_from_similarities,
                       vtc_similarities)
from .vtm_loss import HardNegatives, VTMLoss, sample_hard_negatives, vtm_labels, vtm_pair_indices

__all__ = [
    'VTCLoss', 'VTCSimilarities', 'all_gather_with_grad', 'clamp_temperature_', 'vtc_similarities',
    'vtc_loss_from_similarities', 'VTMLoss', 'HardNegatives', 'sample_hard_negatives', 'vtm_pair_indices', 'vtm_labels',
    'MLMLoss', 'PEMLoss', 'pem_pseudo_labels', 'pem_loss'
]
