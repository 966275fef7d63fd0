"""Checkpoint loading on torch >= 2.6 with mmengine 0.10.7.

torch 2.6 changed ``torch.load`` to ``weights_only=True`` by default. mmengine 0.10.7 does not pass the argument, so
every checkpoint the Runner writes (it pickles ``message_hub`` with mmengine and NumPy objects) fails to load on
resume and on ``load_from``. Meanwhile ``torch.hub.load_state_dict_from_url``, behind mmengine's http(s) scheme, still
defaults to ``weights_only=False`` and so unpickles whatever a server sends.

The two schemes are re-registered with :class:`mmengine.runner.CheckpointLoader`:

- local paths: full unpickling, as on torch < 2.6 (these are files the user's own runs wrote or chose to trust);
- ``http://`` and ``https://``: the file is downloaded into the torch hub cache and loaded with
  ``weights_only=True``: tensors and plain containers only, never code.
"""
import os.path as osp
import pickle
from typing import Any, Optional
from urllib.parse import urlparse

import torch
from mmengine.runner import CheckpointLoader


def load_checkpoint_safely(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a checkpoint file without running code: tensors and plain containers only.

    Args:
        filename (str): Path of the file.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded object.

    Raises:
        FileNotFoundError: If the file does not exist.
        pickle.UnpicklingError: If the file holds anything beyond tensors and plain containers; the message names
            the file and the offending global.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(
            f'{filename} holds objects other than tensors and plain containers, which a checkpoint from the '
            f'network may not unpickle (it could run code). Convert it to a plain state dict on a machine you '
            f'trust, or load it from a local path if you trust its source. torch said: {err}') from None


def load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's local-file scheme with ``weights_only=False``, as torch < 2.6 loaded Runner checkpoints.

    Args:
        filename (str): Path of the checkpoint.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def download_to_cache(url: str, cache_dir: Optional[str] = None, progress: bool = True) -> str:
    """Download ``url`` once into ``cache_dir`` (rank 0 first, the other ranks wait) and return the local path.

    The transfer is :func:`videoalign.hub.download.download_file`'s: through a ``.part`` file that is renamed when
    complete (an interrupted download is resumed, never taken for a finished one), under a file lock so that two
    processes do not download the same file at once.

    Args:
        url (str): The address.
        cache_dir (str, optional): Where to keep the file. Defaults to ``<torch hub dir>/checkpoints``.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        str: Path of the cached file.
    """
    from videoalign.hub.cache import locked, rank0_first  # the hub imports videoalign, which applies this module
    from videoalign.hub.download import download_file

    cache_dir = cache_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(cache_dir, osp.basename(urlparse(url).path) or 'checkpoint.pth')

    def fetch() -> None:
        with locked(path):
            if not osp.isfile(path):
                download_file(url, path, progress=progress)

    rank0_first(fetch)
    return path


def load_from_http(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's http(s) scheme, loading with ``weights_only=True``.

    Args:
        filename (str): The URL.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    return load_checkpoint_safely(download_to_cache(filename), map_location=map_location)


def register_checkpoint_schemes() -> None:
    """Register :func:`load_from_local` and :func:`load_from_http` with mmengine's CheckpointLoader."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http, force=True)
