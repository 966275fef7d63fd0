"""Models: backbones, necks, heads, the text side and the utilities that load and convert weights."""
from ..compat import swin as _swin  # noqa: F401  (registers the fixed SwinTransformer3D in videoalign's scope)
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
