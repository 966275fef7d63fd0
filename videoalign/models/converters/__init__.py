"""Conversion of official checkpoints to videoalign's layout: one named function per method."""
from .io import Placeholder, load_official_checkpoint
from .xclip import convert_xclip

__all__ = ['load_official_checkpoint', 'Placeholder', 'convert_xclip']
