"""ALPRO: video-language pretraining with VTC, VTM, MLM and PEM; text-video retrieval and video question answering."""
from .alpro_pretrainer import AlproPretrainer
from .alpro_qa import AlproQA
from .alpro_retrieval import AlproRetrieval
from .pem_utils import box_mean_pool, box_patch_mask, zero_outside_box
from .prompter import IMAGE_TEMPLATES, VIDEO_TEMPLATES, ALPROPrompter, read_entities

__all__ = [
    'AlproRetrieval', 'AlproPretrainer', 'AlproQA', 'ALPROPrompter', 'VIDEO_TEMPLATES', 'IMAGE_TEMPLATES',
    'read_entities', 'box_patch_mask', 'zero_outside_box', 'box_mean_pool'
]
