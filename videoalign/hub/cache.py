"""Where the hub keeps its files, how it names them, and the locks that keep two processes from writing one file.

Layout under ``$VIDEOALIGN_HOME`` (default ``~/.cache/videoalign``)::

    downloads/<method>/<file name>           files as published (verified), e.g. downloads/xclip/k400_16_8.pth
    checkpoints/<method>/<name>_<sha8>.pth   converted files; <sha8> starts the sha256 of the file they came from
    sha256.json                              hashes recorded on first download (no official one) and of converted files
    locks/...                                lock files (``flock``: released when their process ends)
"""
import contextlib
import os
import os.path as osp
import sys
import tempfile
from typing import IO, Any, Callable, Iterator

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


def download_path(method: str, file_name: str) -> str:
    """Where a published file is kept: ``<hub>/downloads/<method>/<file name>``.

    Args:
        method (str): The first part of the entry name, e.g. ``'xclip'``.
        file_name (str): The file's name, e.g. ``'k400_16_8.pth'``.

    Returns:
        str: The path.
    """
    return osp.join(get_hub_dir(), 'downloads', method, file_name)


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


def fsync_dir(path: str) -> None:
    """Flush a directory entry to disk after a rename in it (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success flush it to disk and rename it to ``path``.

    ``path`` is therefore either absent (or as it was) or complete: an error or a kill midway leaves no partial file
    under its name (the temporary one is removed on errors).

    Args:
        path (str): The final file; its folder is created.
        mode (str): ``'wb'`` or ``'w'`` (text, UTF-8). Defaults to ``'wb'``.

    Yields:
        IO: The open temporary file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, mode, **({} if 'b' in mode else dict(encoding='utf-8'))) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


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
