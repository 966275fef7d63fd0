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
from collections import OrderedDict
from typing import Dict, Mapping

import torch

__all__ = ['convert_dualpath', 'dualpath_state_dict', 'PREFIXES', 'TEXT_TOWER_PREFIXES']

PREFIXES = (  # longest first
    ('visual.head.', 'cls_head.'),
    ('visual.', 'backbone.'),
)
# the unused CLIP text tower of the official model
TEXT_TOWER_PREFIXES = ('token_embedding.', 'positional_embedding', 'transformer.', 'ln_final.', 'text_projection',
                       'logit_scale')


def _matches(key: str, prefix: str) -> bool:
    """``key`` is ``prefix`` or lies under it (``'ln_final.'`` matches ``'ln_final.weight'``)."""
    return key == prefix or (key.startswith(prefix) and (prefix.endswith('.') or key[len(prefix)] == '.'))


def dualpath_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The state dict inside an official file: under ``'model'``, else ``'module'``, else the file itself; without
    a DDP ``module.`` prefix.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.

    Returns:
        dict: The official state dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'an official DualPath checkpoint is a dict, got {type(checkpoint).__name__}')
    state = checkpoint
    for key in ('model', 'module'):
        if isinstance(checkpoint.get(key), Mapping):
            state = checkpoint[key]
            break
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state.items())


def convert_dualpath(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """Map an official DualPath checkpoint (or its state dict) to videoalign's keys, dropping the text tower.

    Args:
        checkpoint (Mapping): The loaded official file (``'model'`` or ``'module'`` key) or a raw state dict.

    Returns:
        dict: The state dict of videoalign's DualPath model (``backbone.*``, ``cls_head.*``).

    Raises:
        KeyError: Naming the official keys that are neither visual nor text-tower keys.
    """
    converted, unknown = OrderedDict(), []
    for key, value in dualpath_state_dict(checkpoint).items():
        for old, new in PREFIXES:
            if _matches(key, old):
                converted[new + key[len(old):]] = value
                break
        else:
            if not any(_matches(key, prefix) for prefix in TEXT_TOWER_PREFIXES):
                unknown.append(key)
    if unknown:
        raise KeyError(f'not DualPath keys (no mapping): {", ".join(unknown[:10])}'
                       f'{" ..." if len(unknown) > 10 else ""}')
    return converted
