"""The checkpoint schemes of the network for mmengine's ``CheckpointLoader``: files are downloaded into a cache and
loaded with :func:`~videoalign.compat.checkpoint.load_checkpoint_safely` (nothing pickled runs).

Registered when ``videoalign`` is imported, so that any place mmengine loads a checkpoint takes them:

- ``videoalign://<method>/<name>``: a model-zoo entry, fetched, verified and converted by
  :func:`~videoalign.hub.api.get_checkpoint`::

      load_from = 'videoalign://xclip/vit-b16-8f_k400'
      init_cfg = dict(type='Pretrained', checkpoint='videoalign://aim/vit-b16_k400', prefix='backbone.')

- ``http://`` and ``https://``: downloaded once (resumable, locked, keyed by address) into the torch hub cache;
- ``torchvision://``, ``modelzoo://``, ``open-mmlab://``, ``openmmlab://``, ``mmcls://``: mmengine's names,
  resolved to their addresses as mmengine does.

mmengine's own loaders for these go through ``torch.hub.load_state_dict_from_url``, which unpickles whatever a
server sends.
"""
import os.path as osp
from contextlib import contextmanager
from typing import Any, Iterator, Optional
from urllib.parse import urlparse

import torch
from mmengine.fileio import register_backend
from mmengine.fileio.backends import BaseStorageBackend
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import (_get_mmengine_home, _process_mmcls_checkpoint, get_deprecated_model_names,
                                        get_external_models, get_mmcls_models, get_torchvision_models)

from ..compat.checkpoint import load_checkpoint_safely, load_from_local
from ..models.converters.torchscript import is_torchscript_archive
from .api import get_checkpoint, load_checkpoint
from .cache import locked, rank0_first, url_key
from .download import download_file
from .formats import TORCHSCRIPT_OR_TORCH, require_format
from .index import SCHEME
from .verify import sha256_of


def load_from_videoalign(filename: str, map_location: Optional[Any] = None) -> dict:
    """The loader of the ``videoalign://`` scheme.

    Args:
        filename (str): ``videoalign://<method>/<name>``.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None (``'cpu'``).

    Returns:
        dict: The checkpoint.
    """
    return load_checkpoint(filename, map_location=map_location or 'cpu')


def download_to_cache(url: str, cache_dir: Optional[str] = None, progress: bool = True) -> str:
    """Download ``url`` once into ``cache_dir`` (rank 0 first, the other ranks wait) and return the local path.

    The file is kept at ``<cache_dir>/<first 16 hex of sha256(url)>/<file name>``, so two addresses that end in the
    same file name never share a file. The transfer is :func:`~videoalign.hub.download.download_file`'s: through a
    ``.part`` file that is renamed when complete (an interrupted download is resumed, never taken for a finished one),
    under a file lock so that two processes do not download the same file at once. Before the rename the file must be
    a torch file (:func:`~videoalign.hub.formats.format_problem`): a web page served in its place, or a transfer cut
    short by a server that sends no ``Content-Length``, is deleted instead of being cached.

    Args:
        url (str): The address.
        cache_dir (str, optional): Where to keep the file. Defaults to ``<torch hub dir>/checkpoints``.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        str: Path of the cached file.

    Raises:
        DownloadError: If the download fails.
        FormatError: If the server sent no torch file (it is deleted).
    """
    cache_dir = cache_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(cache_dir, url_key(url, 16), osp.basename(urlparse(url).path) or 'checkpoint.pth')

    def verify(part: str) -> str:
        require_format(part, TORCHSCRIPT_OR_TORCH, f'{url}: the downloaded file ({part})',
                       'Try again, or download the file yourself and load it from its local path.')
        return sha256_of(part)

    def fetch() -> None:
        with locked(path):
            if not osp.isfile(path):
                download_file(url, path, progress=progress, verify=verify)

    rank0_first(fetch)
    return path


def load_from_http(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's http(s) scheme: downloaded once into the cache, then :func:`load_checkpoint_safely`.

    Args:
        filename (str): The URL.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    path = download_to_cache(filename)
    if is_torchscript_archive(path):
        raise ValueError(f'{filename} is a TorchScript archive, which is not loaded from a URL because loading it runs '
                         f'the code it holds. It was downloaded to {path}; if you trust its source, pass that local '
                         f'path instead (its tensors are then read as data).')
    return load_checkpoint_safely(path, map_location=map_location, source=filename)


def load_from_named_url(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's ``torchvision://``, ``modelzoo://``, ``open-mmlab://``, ``openmmlab://`` and ``mmcls://`` schemes:
    the name is resolved to its address as mmengine does, and the file is loaded like any other.

    Args:
        filename (str): E.g. ``torchvision://resnet50``.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    scheme, name = filename.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        urls = get_torchvision_models()
    elif scheme == 'mmcls':
        urls = get_mmcls_models()
    else:
        urls = get_external_models()
        name = get_deprecated_model_names().get(name, name)
    if name not in urls:
        raise KeyError(f'{filename}: mmengine knows no {scheme}:// model named {name!r}')
    url = urls[name]
    checkpoint = load_from_http(url, map_location) if url.startswith(('http://', 'https://')) else \
        load_from_local(osp.join(_get_mmengine_home(), url), map_location)
    return _process_mmcls_checkpoint(checkpoint) if scheme == 'mmcls' else checkpoint


class HubFileBackend(BaseStorageBackend):
    """mmengine's file backend of ``videoalign://``: model-zoo files that are not checkpoints, by name.

    With it, ``mmengine.fileio.get_local_path('videoalign://bert-base-uncased/vocab')`` (what
    :class:`~videoalign.models.text.ALPROTokenizer` calls) gives the cached file, downloaded and verified once.
    """

    def get(self, filepath: str) -> bytes:
        """The bytes of the entry's file."""
        with open(get_checkpoint(str(filepath)), 'rb') as f:
            return f.read()

    def get_text(self, filepath: str, encoding: str = 'utf-8') -> str:
        """The text of the entry's file."""
        return self.get(filepath).decode(encoding)

    @contextmanager
    def get_local_path(self, filepath: str) -> Iterator[str]:
        """The entry's cached file (not a temporary copy)."""
        yield get_checkpoint(str(filepath))


def register_hub_schemes() -> None:
    """Register the loaders of this module with mmengine's ``CheckpointLoader``, and ``videoalign://`` as a file
    backend of ``mmengine.fileio`` (idempotent)."""
    register_backend('videoalign', HubFileBackend, force=True, prefixes='videoalign')
    CheckpointLoader.register_scheme(prefixes=SCHEME, loader=load_from_videoalign, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://', 'mmcls://'),
        loader=load_from_named_url,
        force=True)
