"""Text side: CLIP's text encoder and tokenizer, class names, prompt templates the class text-embedding cache and
X-CLIP's video-specific prompt generator and Efficient-Prompt's learnable prompt."""
from .class_names import load_class_names, resolve_class_names
from .class_text_bank import ClassTextBank
from .clip_text_encoder import CLIPTextEncoder
from .learnable_prompt import LearnablePrompt
from .templates import TEMPLATES, format_prompts, get_templates
from .tokenizer import CLIPTokenizer
from .video_specific_prompt import VideoSpecificPrompt

__all__ = [
    'CLIPTextEncoder', 'CLIPTokenizer', 'ClassTextBank', 'TEMPLATES', 'format_prompts', 'get_templates',
    'load_class_names', 'resolve_class_names', 'VideoSpecificPrompt', 'LearnablePrompt'
]
