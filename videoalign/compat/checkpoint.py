"""Checkpoint loading on torch >= 2.6 with mmengine 0.10.7: Runner checkpoints load, pickled code never runs.

torch 2.6 changed ``torch.load`` to ``weights_only=True`` by default. mmengine 0.10.7 does not pass the argument, so
every checkpoint the Runner writes fails to load on resume and on ``load_from``: it pickles its ``message_hub``
(mmengine's ``HistoryBuffer``, whose statistics methods pickle as ``getattr(HistoryBuffer, 'mean')``) and NumPy
scalars and arrays, which torch's weights-only unpickler refuses, even with ``add_safe_globals`` (it has no
``getattr``). Meanwhile ``torch.hub.load_state_dict_from_url``, behind mmengine's http(s), ``torchvision://`` and
``open-mmlab://`` schemes, still unpickles whatever a server sends.

mmengine's local-file scheme is re-registered to read files with :class:`SafeUnpickler` (the hub's network
schemes, :mod:`videoalign.hub.scheme`, load what they download with it too): tensors, plain containers, NumPy
arrays, scalars and dtypes, and mmengine's ``HistoryBuffer`` (``getattr`` only for the plain methods of that class:
its statistics). Anything else (``os.system``, a class whose constructor or ``__setstate__`` runs code) is refused
with :class:`UnsafeCheckpointError`, naming the file and the global.

A local file the user trusts (a legacy checkpoint that pickles other objects) is loaded with full unpickling when it
is listed, or lies under a folder listed, in the environment variable ``VIDEOALIGN_TRUSTED_CHECKPOINTS`` (paths
separated by ``os.pathsep``). Nothing is trusted by default, and a file from the network never is.
"""
import logging
import os
import os.path as osp
import pickle
import types
import zipfile
from typing import Any, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

ENV_TRUSTED = 'VIDEOALIGN_TRUSTED_CHECKPOINTS'

_BUILTINS = ('builtins', '__builtin__')  # torch.save writes pickle protocol 2, which names the module __builtin__
#: The globals a checkpoint of tensors, plain containers, NumPy values and mmengine's training state needs.
SAFE_GLOBALS = frozenset({
    ('collections', 'OrderedDict'),
    ('_codecs', 'encode'),  # bytes in protocol 2 (NumPy array data)
    ('torch', 'Size'),
    ('torch', 'device'),
    ('torch', 'Tensor'),
    ('torch._utils', '_rebuild_tensor'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('torch._utils', '_rebuild_parameter_with_state'),
    ('torch._tensor', '_rebuild_from_type_v2'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('mmengine.logging.history_buffer', 'HistoryBuffer'),
} | {(module, name)
     for module in _BUILTINS
     for name in ('set', 'frozenset', 'slice', 'complex', 'bytearray')}
                         | {(module, name)
                            for module in ('numpy.core.multiarray', 'numpy._core.multiarray')
                            for name in ('_reconstruct', 'scalar')})
_TORCH_DTYPES = frozenset(name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype))


def is_safe_global(module: str, name: str) -> bool:
    """Whether the pickled global ``module.name`` is in the allow-list (:data:`SAFE_GLOBALS`, torch dtypes and
    storage types, NumPy's dtype classes).

    Args:
        module (str): The module of the global.
        name (str): Its name.

    Returns:
        bool: True if it may be unpickled.
    """
    if (module, name) in SAFE_GLOBALS:
        return True
    if module == 'torch':
        return name in _TORCH_DTYPES or name.endswith('Storage')
    return module == 'numpy.dtypes' and name.endswith('DType')


class UnsafeGlobalError(pickle.UnpicklingError):
    """A pickle names a global that is not allowed.

    Args:
        module (str): The module of the global.
        name (str): Its name.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        super().__init__(f'{module}.{name}')


class SafeUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only allowed globals (:func:`is_safe_global`) and refuses the rest.

    Pickled code can run only through the globals a pickle names (the callables of ``REDUCE``, the classes of
    ``NEWOBJ`` / ``BUILD``), so refusing every global outside a list of inert ones keeps a pickle from running code.
    Subclasses change :meth:`refuse` (the converters' reader turns refused globals into inert placeholders).
    """

    def find_class(self, module: str, name: str) -> Any:
        if module in _BUILTINS and name == 'getattr':
            return self._getattr
        if is_safe_global(module, name):
            return super().find_class(module, name)
        return self.refuse(module, name)

    def refuse(self, module: str, name: str) -> Any:
        """What a global outside the allow-list unpickles as: here, an :class:`UnsafeGlobalError`."""
        raise UnsafeGlobalError(module, name)

    def _getattr(self, obj: Any, name: str) -> Any:
        """``getattr`` as a Runner checkpoint uses it: the statistics methods of mmengine's ``HistoryBuffer``."""
        from mmengine.logging import HistoryBuffer
        if obj is HistoryBuffer and not name.startswith('_') and isinstance(
                vars(HistoryBuffer).get(name), types.FunctionType):
            return getattr(obj, name)
        return self.refuse('builtins', f'getattr({getattr(obj, "__qualname__", type(obj).__name__)}, {name!r})')


def pickle_module(unpickler: type) -> types.ModuleType:
    """A stand-in for the ``pickle`` module whose ``Unpickler`` and ``load`` use ``unpickler``, for
    ``torch.load(pickle_module=...)`` (torch's legacy format also reads its header records with ``load``).

    Args:
        unpickler (type): A ``pickle.Unpickler`` subclass.

    Returns:
        types.ModuleType: The module.
    """
    module = types.ModuleType(f'videoalign_{unpickler.__name__}')
    module.Unpickler = unpickler
    module.load = lambda file, **kwargs: unpickler(file, **kwargs).load()
    return module


_safe_pickle = pickle_module(SafeUnpickler)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a pickled object outside the allow-list; it was not loaded (nothing ran)."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file could not be read (truncated, corrupt, or not a checkpoint)."""


def trusted_paths() -> Tuple[str, ...]:
    """The files and folders listed in ``VIDEOALIGN_TRUSTED_CHECKPOINTS``, resolved.

    Returns:
        tuple[str, ...]: Real paths.
    """
    return tuple(osp.realpath(osp.expanduser(p)) for p in os.environ.get(ENV_TRUSTED, '').split(os.pathsep) if p)


def is_trusted(filename: str) -> bool:
    """Whether the user listed ``filename`` (or a folder above it) in ``VIDEOALIGN_TRUSTED_CHECKPOINTS``.

    Args:
        filename (str): A local file.

    Returns:
        bool: True if it may be unpickled in full.
    """
    real = osp.realpath(osp.expanduser(filename))
    return any(real == p or real.startswith(p.rstrip(os.sep) + os.sep) for p in trusted_paths())


def load_checkpoint_safely(filename: str, map_location: Optional[Any] = None, source: Optional[str] = None) -> Any:
    """Load a checkpoint file with :class:`SafeUnpickler`: tensors, containers, NumPy values and mmengine's
    training state; never code.

    Args:
        filename (str): Path of the file.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.
        source (str, optional): Where the file came from (a URL), for the messages; a file from the network cannot
            be trusted by ``VIDEOALIGN_TRUSTED_CHECKPOINTS``. Defaults to None (a local file).

    Returns:
        Any: The loaded object.

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafeCheckpointError: If the file pickles a global outside the allow-list; the message names the file and
            the global, and says how to load a file the user trusts.
        CheckpointReadError: If the file cannot be read (e.g. truncated); the message names it.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    what = f'{filename} (downloaded from {source})' if source else filename
    try:
        return torch.load(filename, map_location=map_location, weights_only=False, pickle_module=_safe_pickle)
    except UnsafeGlobalError as err:
        if source:
            how = ('A file from the network is never unpickled in full: download it, check where it comes from, '
                   'and convert it to a plain state dict on a machine where you trust it.')
        else:
            how = (f'If you trust this file (e.g. your own code saved other objects in it), allow it with the '
                   f'environment variable {ENV_TRUSTED}={osp.abspath(filename)} (several paths separated by '
                   f'{os.pathsep!r}; a folder trusts the files under it), or convert it to a plain state dict.')
        raise UnsafeCheckpointError(
            f'{what} pickles the global {err.module}.{err.name}, which is not in the allow-list of what a checkpoint '
            f'of tensors, NumPy values and mmengine\'s training state needs; unpickling it could run code, so the '
            f'file was not loaded. {how}') from None
    except (RuntimeError, EOFError, ValueError, TypeError, AttributeError, zipfile.BadZipFile, pickle.UnpicklingError,
            OSError) as err:
        size = osp.getsize(filename)
        raise CheckpointReadError(
            f'cannot load the checkpoint {what} ({size} bytes): {type(err).__name__}: {err}. A file cut short by an '
            f'interrupted save or download, or a file that is not a torch checkpoint, fails this way.') from err


def load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's local-file scheme: :func:`load_checkpoint_safely`, or full unpickling for a trusted file.

    Args:
        filename (str): Path of the checkpoint.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    if not is_trusted(filename):
        return load_checkpoint_safely(filename, map_location=map_location)
    print_log(
        f'{filename} is trusted through {ENV_TRUSTED}: unpickling it in full', logger='current', level=logging.WARNING)
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as err:
        raise CheckpointReadError(f'cannot load the checkpoint {filename}: {type(err).__name__}: {err}') from err


def register_checkpoint_schemes() -> None:
    """Register :func:`load_from_local` as mmengine's local-file scheme (idempotent).

    The network schemes (``http(s)://``, ``torchvision://``, ``open-mmlab://``, ``videoalign://``) are registered by
    :mod:`videoalign.hub.scheme`, which downloads into its cache and then loads with :func:`load_checkpoint_safely`.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
