"""videoalign: adapting image-language models to video, and video-language pretraining, on mmengine + mmaction2."""
from . import compat, hub
from .version import __version__, version_info

compat.apply()
hub.register_hub_scheme()  # videoalign://<method>/<name> checkpoints (videoalign/hub)

__all__ = ['__version__', 'version_info']
