"""Models: backbones, necks, heads, recognizers, the text side, CLIP's shared parts and the checkpoint converters."""
from .backbones import *  # noqa: F401,F403
from .clip import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
