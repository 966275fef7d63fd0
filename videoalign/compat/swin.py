"""mmaction2's ``SwinTransformer3D`` with ``pretrained=None`` fails in ``init_weights`` unless
``pretrained2d=False``: this subclass, registered under the same name in videoalign's scope, sets it."""
from typing import Any, Optional

from mmaction.models.backbones import SwinTransformer3D as _MMActionSwinTransformer3D

from ..registry import MODELS


@MODELS.register_module(name='SwinTransformer3D')
class SwinTransformer3D(_MMActionSwinTransformer3D):
    """mmaction2's Video Swin; ``pretrained2d`` defaults to False when no ``pretrained`` file is given.

    Args:
        pretrained (str, optional): A 2D or 3D checkpoint. Defaults to None.
        pretrained2d (bool, optional): Whether ``pretrained`` is a 2D (ImageNet) checkpoint to inflate. Defaults to
            ``pretrained is not None``.
        **kwargs: Other arguments of mmaction2's ``SwinTransformer3D``.
    """

    def __init__(self, pretrained: Optional[str] = None, pretrained2d: Optional[bool] = None, **kwargs: Any) -> None:
        if pretrained2d is None:
            pretrained2d = pretrained is not None
        super().__init__(pretrained=pretrained, pretrained2d=pretrained2d, **kwargs)
