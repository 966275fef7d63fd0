"""Where the hub keeps its files, how it names them, and the locks that keep two processes from writing one file.

Layout under ``$VIDEOALIGN_HOME`` (default ``~/.cache/videoalign``)::

    downloads/<method>/<key>/<file name>     files as published (verified), e.g. downloads/xclip/3f9c.../k400_16_8.pth;
                                             <key> is 12 hex of the sha256 of the address's folder (see download_path)
    checkpoints/<method>/<name>_<sha8>.pth   converted files; <sha8> starts the sha256 of the file they came from
    sha256.json                              hashes recorded on first download (no official one) and of converted files
    locks/...                                lock files (``flock``: released when their process ends)
"""
import contextlib
import hashlib
import os
import os.path as osp
import sys
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from filelock import FileLock, Timeout
from mmengine.dist import barrier, get_dist_info

ENV_HOME = 'VIDEOALIGN_HOME'
ENV_OFFLINE = 'VIDEOALIGN_OFFLINE'
DEFAULT_HOME = osp.join('~', '.cache', 'videoalign')


def get_hub_dir() -> str:
    """The cache folder: ``$VIDEOALIGN_HOME``, else ``~/.cache/videoalign``.

    Returns:
        str: An absolute path (not created here).
    """
    return osp.abspath(osp.expanduser(os.environ.get(ENV_HOME) or DEFAULT_HOME))


def is_offline() -> bool:
    """Whether ``VIDEOALIGN_OFFLINE`` forbids downloads (any value but ``''``, ``0``, ``false``, ``no``).

    Returns:
        bool: True in offline mode.
    """
    return os.environ.get(ENV_OFFLINE, '').strip().lower() not in ('', '0', 'false', 'no')


def url_key(text: str, length: int) -> str:
    """The first ``length`` hex digits of the sha256 of ``text`` (UTF-8): a folder name that keeps files apart.

    Args:
        text (str): E.g. an address.
        length (int): How many hex digits.

    Returns:
        str: Lower-case hex.
    """
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:length]


def download_path(method: str, url: str, file_name: str) -> str:
    """Where a published file is kept: ``<hub>/downloads/<method>/<key>/<file name>``.

    ``<key>`` is :func:`url_key` (12 digits) of the address's folder: the address without its last part where that
    part is the file name and there is no query (files published side by side, such as the four
    ``bert-base-uncased`` files, share a folder), else of the whole address. So two addresses that end in the same
    file name never share a cached file.

    Args:
        method (str): The first part of the entry name, e.g. ``'xclip'``.
        url (str): The address of the published file.
        file_name (str): The file's name, e.g. ``'k400_16_8.pth'``.

    Returns:
        str: The path.
    """
    parts = urlsplit(url)
    if not parts.query and not parts.fragment and parts.path.rsplit('/', 1)[-1] == file_name:
        folder = url[:len(url) - len(file_name)]  # ends with '/'
    else:
        folder = url + '\0'  # no address ends with NUL: never the folder of another address
    return osp.join(get_hub_dir(), 'downloads', method, url_key(folder, 12), file_name)


def converted_path(method: str, short_name: str, source_sha256: str) -> str:
    """Where a converted file is kept: ``<hub>/checkpoints/<method>/<name>_<first 8 hex of the source sha256>.pth``.

    Args:
        method (str): The first part of the entry name.
        short_name (str): The part after ``<method>/``.
        source_sha256 (str): The sha256 of the published file it is converted from.

    Returns:
        str: The path.
    """
    return osp.join(get_hub_dir(), 'checkpoints', method, f'{short_name}_{source_sha256[:8]}.pth')


def lock_path(path: str) -> str:
    """The lock file guarding ``path``: the same relative path under ``<hub>/locks/``, or ``<path>.lock`` for a file
    outside the hub folder."""
    hub = get_hub_dir()
    relative = osp.relpath(osp.abspath(path), hub)
    if relative.startswith(os.pardir):
        return path + '.lock'
    return osp.join(hub, 'locks', relative + '.lock')


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold the lock of ``path`` (waiting, with a message, while another process holds it).

    Args:
        path (str): The file the lock protects.

    Yields:
        None
    """
    lock_file = lock_path(path)
    os.makedirs(osp.dirname(lock_file), exist_ok=True)
    lock = FileLock(lock_file)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f'waiting for another process to finish {path} (lock {lock_file})', file=sys.stderr, flush=True)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def rank0_first(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on rank 0, then (after a barrier) on the other ranks, which then find its result in the cache."""
    rank, world_size = get_dist_info()
    if world_size == 1:
        return fn()
    error, result = None, None
    if rank == 0:
        try:
            result = fn()
        except Exception as err:  # noqa: BLE001  (re-raised after the barrier, so no rank waits forever)
            error = err
    barrier()
    if rank != 0:
        result = fn()
    if error is not None:
        raise error
    return result
