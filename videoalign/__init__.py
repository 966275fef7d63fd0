"""videoalign: adapting image-language models to video, and video-language pretraining, on mmengine + mmaction2."""
from . import compat
from .version import __version__, version_info

compat.apply()  # before anything imports mmaction.models

from . import hub  # noqa: E402

hub.register_hub_schemes()  # videoalign://, http(s):// and mmengine's named schemes (videoalign/hub)

__all__ = ['__version__', 'version_info']
