"""Models, grouped by role: data preprocessors, backbones, necks, heads, losses, recognizers and algorithms
(algorithm-level models that are not recognizers), target generators, the text side, CLIP's shared parts, and the
checkpoint converters."""
from . import algorithms, losses, target_generators  # noqa: F401  (their components register themselves)
from .backbones import *  # noqa: F401,F403
from .clip import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
