"""A lock that keeps two training runs from writing one work directory at the same time."""
import datetime
import fcntl
import os
import os.path as osp
import socket
from typing import Optional

LOCK_NAME = '.train.lock'


class WorkDirInUseError(RuntimeError):
    """Another live process holds the work directory's lock."""


class WorkDirLock:
    """An exclusive ``flock`` on ``<work_dir>/.train.lock``, which records the owner's pid, host and start time.

    The operating system releases the lock when its process ends, however it ends, so a killed run never leaves a
    stale lock behind; a second run on the same work directory is refused while the first is alive (orphaned ranks
    of a killed launcher included).

    Args:
        work_dir (str): The work directory (created if missing).
    """

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd: Optional[int] = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`WorkDirInUseError` naming the process that holds it."""
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.read(fd, 4096).decode('utf-8', 'replace').strip() or 'an unknown process'
            os.close(fd)
            raise WorkDirInUseError(
                f'the work dir {osp.dirname(self.path)} is in use by another training run ({owner}); wait for it to '
                f'finish or stop it, or train into another --work-dir') from None
        stamp = datetime.datetime.now().isoformat(timespec='seconds')
        os.ftruncate(fd, 0)
        os.write(fd, f'pid {os.getpid()} on {socket.gethostname()}, since {stamp}\n'.encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (the file stays; its content is stale but harmless)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
