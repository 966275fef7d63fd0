"""Models: backbones, necks, heads, losses and the algorithms that put them together."""
from ..compat import swin as _swin  # noqa: F401  (registers the fixed SwinTransformer3D in videoalign's scope)
