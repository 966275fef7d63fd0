"""Official AIM checkpoints (taoyang1122/adapt-image-models) to videoalign's layout.

The official file is mmcv's ``{'meta', 'state_dict', 'optimizer'}`` (plus ``'amp'`` when trained with Apex fp16),
with the keys of mmaction's ``Recognizer3D``: ``backbone.*`` (``ViT_CLIP``) and ``cls_head.fc_cls.*`` (``I3DHead``),
no ``module.`` prefix (aim.md §3). videoalign's AIM is a ``VideoRecognizer`` with a ``CLIPViT`` backbone of
``AIMBlock`` blocks and a ``FrameAverageHead``, which keep every official name except the adapters':

=================  ==================
official           videoalign
=================  ==================
``T_Adapter_in``   ``t_adapter_in``
``T_Adapter``      ``t_adapter``
``S_Adapter``      ``s_adapter``
``MLP_Adapter``    ``mlp_adapter``
``D_fc1``          ``down_proj``
``D_fc2``          ``up_proj``
=================  ==================

e.g. ``backbone.transformer.resblocks.3.T_Adapter.D_fc1.weight`` ->
``backbone.transformer.resblocks.3.t_adapter.down_proj.weight``. Names are mapped per dotted component, so a
component is renamed only when it is exactly one of the names above.
"""
from collections import OrderedDict
from typing import Dict, Mapping

import torch

from .io import check_unmapped, official_state_dict
from .registry import register_converter

COMPONENTS = {
    'T_Adapter_in': 't_adapter_in',
    'T_Adapter': 't_adapter',
    'S_Adapter': 's_adapter',
    'MLP_Adapter': 'mlp_adapter',
    'D_fc1': 'down_proj',
    'D_fc2': 'up_proj',
}
PREFIXES = ('backbone.', 'cls_head.')


@register_converter('aim')
def convert_aim(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Map an official AIM checkpoint (or its ``'state_dict'``) to videoalign's keys.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.

    Returns:
        dict: The state dict of videoalign's AIM model.

    Raises:
        KeyError: Naming the keys that are neither ``backbone.*`` nor ``cls_head.*``.
    """
    converted, unmapped = OrderedDict(), []
    for key, value in official_state_dict(checkpoint, ('state_dict', ), 'AIM').items():
        if key.startswith(PREFIXES):
            converted['.'.join(COMPONENTS.get(part, part) for part in key.split('.'))] = value
        else:
            unmapped.append(key)
    check_unmapped(unmapped, 'AIM')
    return converted
