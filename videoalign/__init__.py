"""videoalign: adapting image-language models to video, and video-language pretraining, on mmengine + mmaction2."""
from . import compat
from .version import __version__, version_info

compat.apply()

__all__ = ['__version__', 'version_info']
