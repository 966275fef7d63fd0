"""Reading the tensors of a TorchScript archive as data, without ``torch.jit.load``.

OpenAI publishes CLIP only as TorchScript archives (``torch.jit.save``). Loading one with ``torch.jit.load`` compiles
and keeps the TorchScript code it holds, and torch >= 2.10 deprecates it. The archive is a zip: ``<name>/data.pkl``
pickles the module tree (each module an object whose state is a dict of its attributes) and ``<name>/data/<key>``
holds the raw bytes of each tensor storage. :func:`load_torchscript_state_dict` unpickles ``data.pkl`` with
:mod:`~videoalign.models.converters.io`'s inert unpickler (modules become placeholders that only keep their
attributes), rebuilds the tensors from the storage files, and names each tensor by its attribute path, as
``module.state_dict()`` does (``visual.conv1.weight``).
"""
import io
import warnings
import zipfile
from collections import OrderedDict
from typing import Any, Dict, Sequence

import torch

from .io import Placeholder, _InertUnpickler

__all__ = ['is_torchscript_archive', 'load_torchscript_state_dict']


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (written by ``torch.jit.save``) rather than a ``torch.save`` file.

    Args:
        path (str): A local file.

    Returns:
        bool: True if the zip holds TorchScript code (``code/``) or constants (``constants.pkl``).
    """
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any('/code/' in name or name.endswith('constants.pkl') for name in archive.namelist())


def _rebuild_tensor(storage: tuple, storage_offset: int, size: Sequence[int], stride: Sequence[int], *args: Any,
                    **kwargs: Any) -> torch.Tensor:
    """Stands in for ``torch._utils._rebuild_tensor_v2``: a view of the storage read from the archive."""
    untyped, dtype = storage
    return torch.empty(0, dtype=dtype).set_(untyped, storage_offset, torch.Size(size), tuple(stride))


class _ArchiveUnpickler(_InertUnpickler):
    """The inert unpickler, with storages read from the archive's ``data/`` folder."""

    def __init__(self, file: Any, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self.archive, self.prefix = archive, prefix
        self.storages = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return _rebuild_tensor
        if module == 'torch' and name.endswith('Storage') and name != 'UntypedStorage':
            with warnings.catch_warnings():  # reading the dtype of a typed storage class warns that they are deprecated
                warnings.simplefilter('ignore')
                dtype = getattr(getattr(torch, name, None), 'dtype', None)
            if isinstance(dtype, torch.dtype):
                return dtype  # the persistent id names the storage class: only its dtype is needed
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage'):
            raise ValueError(f'unexpected persistent id {pid!r} in the TorchScript archive')
        _, dtype, key, _location, _numel = pid
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f'unexpected storage type {dtype!r} in the TorchScript archive')
        if key not in self.storages:
            data = self.archive.read(f'{self.prefix}/data/{key}')
            self.storages[key] = torch.UntypedStorage.from_buffer(data, dtype=torch.uint8) if data else \
                torch.UntypedStorage(0)
        return self.storages[key], dtype


def _collect(obj: Placeholder, prefix: str, out: Dict[str, torch.Tensor]) -> None:
    state = obj.state if isinstance(obj.state, dict) else {}
    for name, value in state.items():
        if torch.is_tensor(value):
            out[prefix + name] = value
        elif isinstance(value, Placeholder):
            _collect(value, f'{prefix}{name}.', out)


def load_torchscript_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a TorchScript archive by attribute path, on the CPU, without loading TorchScript.

    Args:
        path (str): The archive (e.g. OpenAI's ``ViT-B-16.pt``).

    Returns:
        dict[str, torch.Tensor]: Parameters, buffers and other tensor attributes (e.g. OpenAI CLIP's ``attn_mask``),
        with their dtypes.

    Raises:
        ValueError: If the file is not a TorchScript archive or is stored big-endian.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(f'{path} is not a TorchScript archive (not a zip file)')
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data_pkl = sorted((n for n in names if n.endswith('/data.pkl') and n.count('/') == 1), key=len)
        if not data_pkl:
            raise ValueError(f'{path} has no <name>/data.pkl: not a TorchScript archive')
        prefix = data_pkl[0][:-len('/data.pkl')]
        if f'{prefix}/byteorder' in names and archive.read(f'{prefix}/byteorder').strip() != b'little':
            raise ValueError(f'{path} stores its tensors big-endian, which is not supported')
        root = _ArchiveUnpickler(io.BytesIO(archive.read(data_pkl[0])), archive, prefix).load()
    out = OrderedDict()
    if isinstance(root, Placeholder):
        _collect(root, '', out)
    elif isinstance(root, dict):
        out.update((k, v) for k, v in root.items() if torch.is_tensor(v))
    if not out:
        raise ValueError(f'{path} holds no tensors')
    return out
