"""Reading official checkpoints without running their pickled code.

Official releases pickle more than tensors: X-CLIP stores a yacs ``CfgNode``, DualPath an ``argparse.Namespace``.
``torch.load(weights_only=True)`` refuses such files, and ``weights_only=False`` would run whatever they contain
(and needs yacs installed). :func:`load_official_checkpoint` unpickles tensors and plain containers as usual and
turns every other object into an inert :class:`Placeholder` that only records what it was: no constructor, no
``__reduce__`` callable and no ``__setstate__`` of the original class ever runs.
"""
import pickle
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch

from videoalign.compat.checkpoint import SafeUnpickler, pickle_module


class Placeholder:
    """Stands in for an object of a class that is not allowed; keeps the arguments and state it was given.

    Args:
        *args: What the pickle would have passed to the original callable.
    """

    qualname = 'Placeholder'

    def __new__(cls, *args: Any, **kwargs: Any) -> 'Placeholder':
        # pickle's NEWOBJ calls __new__ without __init__, so the attributes are set here
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state = args, dict(kwargs), None
        return obj

    def __setstate__(self, state: Any) -> None:
        self.state = state

    # the items of a pickled dict or list subclass (a yacs CfgNode is a dict) arrive through these
    def __setitem__(self, key: Any, value: Any) -> None:
        self.kwargs[key] = value

    def append(self, value: Any) -> None:
        self.args += (value, )

    def extend(self, values: Any) -> None:
        self.args += tuple(values)

    def __repr__(self) -> str:
        return f'<{self.qualname} (not unpickled)>'


class _InertUnpickler(SafeUnpickler):
    """The safe unpickler of :mod:`videoalign.compat.checkpoint`, with every refused global made a placeholder."""

    def refuse(self, module: str, name: str) -> Any:
        return type(name, (Placeholder, ), dict(qualname=f'{module}.{name}'))


_inert_pickle = pickle_module(_InertUnpickler)


def load_official_checkpoint(path: str, map_location: Optional[Any] = 'cpu') -> Any:
    """Load an official checkpoint: tensors and containers as they are, other objects as inert placeholders.

    Args:
        path (str): The file.
        map_location (Any): As in :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        Any: The checkpoint.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass  # it holds more than tensors: read it again with everything else made inert
    return torch.load(path, map_location=map_location, weights_only=False, pickle_module=_inert_pickle)


def official_state_dict(checkpoint: Mapping, keys: Sequence[str], method: str) -> Dict[str, torch.Tensor]:
    """The state dict inside an official file, without a DDP ``module.`` prefix.

    Args:
        checkpoint (Mapping): The loaded official file, or its state dict.
        keys (Sequence[str]): Keys that may hold the state dict (e.g. ``('model', )``); the first one holding a dict
            wins, and without any the file is taken as the state dict itself.
        method (str): The method's name, for the error message.

    Returns:
        dict: The official state dict.

    Raises:
        TypeError: If ``checkpoint`` is not a dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'an official {method} checkpoint is a dict, got {type(checkpoint).__name__}')
    state = next((checkpoint[key] for key in keys if isinstance(checkpoint.get(key), Mapping)), checkpoint)
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state.items())


def _under(key: str, prefix: str) -> bool:
    """Whether ``key`` is ``prefix`` or lies under it (``'ln_final.'`` covers ``'ln_final.weight'``; ``'proj'``
    covers ``'proj'`` and ``'proj.x'`` but not ``'projection'``)."""
    return key == prefix or (key.startswith(prefix) and (prefix.endswith('.') or key[len(prefix)] == '.'))


def check_unmapped(unmapped: Sequence[str], method: str) -> None:
    """Raise a ``KeyError`` naming (up to ten of) the official keys that have no videoalign counterpart."""
    if unmapped:
        raise KeyError(f'not {method} keys (no mapping): {", ".join(unmapped[:10])}'
                       f'{" ..." if len(unmapped) > 10 else ""}')


def rename_prefixes(state: Mapping[str, torch.Tensor], prefixes: Sequence[Tuple[str, Optional[str]]],
                    method: str) -> Dict[str, torch.Tensor]:
    """Rename every key by the first ``(official, videoalign)`` prefix pair that covers it.

    Args:
        state (Mapping): The official state dict.
        prefixes (Sequence[tuple]): ``(official prefix, videoalign prefix)`` pairs, most specific first; a
            videoalign prefix of None drops the keys (weights the videoalign model does not have).
        method (str): The method's name, for the error message.

    Returns:
        dict: The renamed state dict.

    Raises:
        KeyError: Naming the keys that no pair covers.
    """
    converted, unmapped = OrderedDict(), []
    for key, value in state.items():
        pair = next(((old, new) for old, new in prefixes if _under(key, old)), None)
        if pair is None:
            unmapped.append(key)
        elif pair[1] is not None:
            converted[pair[1] + key[len(pair[0]):]] = value
    check_unmapped(unmapped, method)
    return converted
