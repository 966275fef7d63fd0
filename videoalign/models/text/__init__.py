"""Text side: CLIP's text encoder and tokenizer, ALPRO's split BERT and its tokenizer, prompt templates, the class
text-embedding cache, X-CLIP's video-specific prompt generator and Efficient-Prompt's learnable prompt. (Class names
are data: they are read by :mod:`videoalign.datasets.class_names`.)"""
from .alpro_bert import ALPROBert
from .bert_tokenizer import ALPROTokenizer
from .class_text_bank import ClassTextBank
from .clip_text_encoder import CLIPTextEncoder
from .learnable_prompt import LearnablePrompt
from .mlm_masking import mask_tokens_for_mlm
from .templates import TEMPLATES, format_prompts, get_templates
from .tokenizer import CLIPTokenizer
from .video_specific_prompt import VideoSpecificPrompt

__all__ = [
    'CLIPTextEncoder', 'CLIPTokenizer', 'ClassTextBank', 'TEMPLATES', 'format_prompts', 'get_templates',
    'VideoSpecificPrompt', 'LearnablePrompt', 'ALPROBert', 'ALPROTokenizer', 'mask_tokens_for_mlm'
]
