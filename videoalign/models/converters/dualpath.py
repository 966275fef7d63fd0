"""Official DualPath checkpoints (``park-jungin/DualPath``) to videoalign's layout.

The official ``util/misc.py`` ``save_model`` writes ``{'model': state_dict, 'optimizer', 'epoch', 'scaler', 'args'}``
(``'args'`` an ``argparse.Namespace``; read it with :func:`~videoalign.models.converters.load_official_checkpoint`,
which does not run pickled code); its ``load_model`` also takes ``'module'`` or a raw state dict, and so does
:func:`convert_dualpath`. The keys are those of the official ``CLIP`` model (dualpath.md §3.1). videoalign's DualPath
is a ``VideoRecognizer`` with a ``DualPathViT`` backbone and a ``DualPathHead``; the mapping is by prefix:

=========================  ==================
official                   videoalign
=========================  ==================
``visual.head.*``          ``cls_head.*``
``visual.*``               ``backbone.*``
=========================  ==================

The CLIP text tower, which the official model builds but never runs, is dropped: the keys starting with
``token_embedding.``, ``transformer.`` and ``ln_final.``, and the keys ``positional_embedding`` (trained by the
official freezing rule, though unused), ``text_projection`` and ``logit_scale``.
"""
from typing import Any, Dict, Mapping

import torch

from .io import official_state_dict, rename_prefixes
from .registry import register_converter

__all__ = ['convert_dualpath', 'dualpath_state_dict', 'official_args', 'PREFIXES', 'TEXT_TOWER_PREFIXES']

PREFIXES = (  # longest first
    ('visual.head.', 'cls_head.'),
    ('visual.', 'backbone.'),
)
# the unused CLIP text tower of the official model
TEXT_TOWER_PREFIXES = ('token_embedding.', 'positional_embedding', 'transformer.', 'ln_final.', 'text_projection',
                       'logit_scale')


def dualpath_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The state dict inside an official file: under ``'model'``, else ``'module'``, else the file itself; without
    a DDP ``module.`` prefix."""
    return official_state_dict(checkpoint, ('model', 'module'), 'DualPath')


def official_args(checkpoint: Any) -> Dict[str, Any]:
    """The plain values of the official ``args`` (an ``argparse.Namespace``, read as an inert placeholder), under
    ``official_args``, for the converted file's ``meta``; empty if there are none."""
    args = checkpoint.get('args') if isinstance(checkpoint, Mapping) else None
    state = getattr(args, 'state', None)
    if not isinstance(state, dict):
        return {}
    plain = (str, int, float, bool, type(None))
    return dict(official_args={k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, plain)})


@register_converter('dualpath', describe=official_args)
def convert_dualpath(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Map an official DualPath checkpoint (or its state dict) to videoalign's keys, dropping the text tower.

    Args:
        checkpoint (Mapping): The loaded official file (``'model'`` or ``'module'`` key) or a raw state dict.

    Returns:
        dict: The state dict of videoalign's DualPath model (``backbone.*``, ``cls_head.*``).

    Raises:
        KeyError: Naming the official keys that are neither visual nor text-tower keys.
    """
    prefixes = tuple(PREFIXES) + tuple((prefix, None) for prefix in TEXT_TOWER_PREFIXES)
    return rename_prefixes(dualpath_state_dict(checkpoint), prefixes, 'DualPath')
