"""Losses, registered in ``MODELS`` as mmaction2's are (``loss_cls=dict(type=...)`` in a head's config).

The classification heads of the CLIP-adaptation methods use mmaction2's ``CrossEntropyLoss``, which takes hard and
soft (mixup, cutmix, label smoothing) targets. The video-language losses come here, one file each: NCE over
similarities, ALPRO's video-text contrastive (VTC, on :func:`~videoalign.models.layers.scaled_cosine_similarity`)
and matching (VTM) losses, masked language modelling (MLM), prompting entity modelling (PEM), and BEVT's masked-token
cross-entropy.
"""
