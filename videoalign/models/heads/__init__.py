"""Heads: turn video features into class scores and losses."""
from .text_prompt_head import TextPromptHead

__all__ = ['TextPromptHead']
