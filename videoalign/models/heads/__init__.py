"""Heads: turn video features into class scores and losses (or masked-token predictions)."""
from .class_text_head import ClassTextHead
from .dualpath_head import DualPathHead
from .frame_average_head import FrameAverageHead
from .learnable_prompt_head import LearnablePromptHead
from .masked_token_head import MaskedTokenHead
from .text_prompt_head import TextPromptHead

__all__ = [
    'ClassTextHead', 'DualPathHead', 'FrameAverageHead', 'LearnablePromptHead', 'MaskedTokenHead', 'TextPromptHead'
]
