"""Writing files so that a kill or a full disk never leaves a partial file under the final name."""
import contextlib
import os
import os.path as osp
import tempfile
from typing import IO, Iterator


def fsync_dir(path: str) -> None:
    """Flush a directory entry to disk after a rename in it (a no-op where directories cannot be opened).

    Args:
        path (str): The directory.
    """
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


def temporary_name(path: str) -> str:
    """A hidden name next to ``path`` for writing it before the rename: ``<dir>/.<name>.<pid>.tmp``.

    Args:
        path (str): The final file.

    Returns:
        str: The temporary path.
    """
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.{os.getpid()}.tmp')


def replace_atomically(tmp: str, path: str) -> None:
    """Flush ``tmp`` to disk and rename it to ``path`` (replacing it), then flush the folder entry.

    Args:
        tmp (str): The complete temporary file.
        path (str): The final name.
    """
    with open(tmp, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(osp.dirname(osp.abspath(path)))


def _umask() -> int:
    """The process's file-mode creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success flush it to disk and rename it to ``path``.

    ``path`` is therefore either absent (or as it was) or complete: an error, a full disk or a kill midway leaves no
    partial file under its name (the temporary one is removed on errors). An ``OSError`` names ``path``.

    Args:
        path (str): The final file; its folder is created.
        mode (str): ``'wb'`` or ``'w'`` (text, UTF-8). Defaults to ``'wb'``.

    Yields:
        IO: The open temporary file.
    """
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    except OSError as err:
        raise OSError(err.errno, f'cannot write {path}: {err.strerror}') from err
    try:
        with os.fdopen(fd, mode, **({} if 'b' in mode else dict(encoding='utf-8'))) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 -> what open() would give the final file
        os.replace(tmp, path)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and path not in str(err):
            raise OSError(err.errno, f'cannot write {path}: {err.strerror or err}') from err
        raise
    fsync_dir(folder)


def check_writable(path: str, what: str) -> str:
    """Make sure a file can later be written at ``path`` (its folder is created), before long work starts.

    Args:
        path (str): The file to be written.
        what (str): What it is, for the message (e.g. ``'--dump'``).

    Returns:
        str: The absolute path.

    Raises:
        OSError: Naming ``what`` and ``path`` if the folder cannot be created or written to.
    """
    path = osp.abspath(osp.expanduser(path))
    folder = osp.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OSError(err.errno, f'{what} {path}: cannot write to {folder}: {err.strerror}') from None
    if osp.isdir(path):
        raise IsADirectoryError(f'{what} {path} is a directory; give a file name')
    return path
