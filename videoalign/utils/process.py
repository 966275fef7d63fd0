"""Ties a distributed rank's life to its launcher's."""
import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent (the launcher: torchrun, srun) dies.

    A rank started by ``torchrun`` keeps training when the launcher is killed with SIGKILL (or when
    ``dist_train.sh`` is killed and does not pass the signal on): orphaned ranks then go on writing the work dir.
    With this, they end with their launcher. A no-op outside Linux.

    Args:
        sig (int): The signal to receive. Defaults to SIGTERM.

    Returns:
        bool: Whether the request was made.
    """
    if not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
    parent = os.getppid()
    if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), sig)
    return True
