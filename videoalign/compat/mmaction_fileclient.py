"""mmaction2 1.2.0's video loaders build mmengine's deprecated ``FileClient``, which warns twice in every run.

The defect: ``DecordInit``, ``OpenCVInit``, ``PyAVInit``, ``PIMSInit``, ``RawFrameDecode``, ``ImageDecode`` and
the other loaders of ``mmaction/datasets/transforms/loading.py`` call ``FileClient(io_backend, **kwargs)`` the first
time they read a file. mmengine 0.10.7 deprecates ``FileClient``: its ``__new__`` logs (``print_log``, level
WARNING, the current ``MMLogger``) ``"FileClient" will be deprecated in future. Please use io functions in
https://mmengine.readthedocs.io/en/latest/api/fileio.html#file-io``, and the ``'disk'`` backend it builds,
``HardDiskBackend``, logs ``"HardDiskBackend" is the alias of "LocalBackend" and the former will be deprecated in
future.`` Reproduced with ``tools/test.py configs/quickstart/r3d-tiny-8f_synthetic.py`` and ``demo/demo.py``: both
lines in every test and inference run (once per dataloader worker in training), about calls that are mmaction2's,
not the user's.

The fix: :func:`quiet_file_client_deprecation` replaces the name ``FileClient`` in mmaction2's loading module by
:class:`QuietFileClient`, a subclass that drops exactly those two log records while it is being built (a filter on
the current ``MMLogger`` for the duration of ``FileClient.__new__``) and is otherwise mmengine's class (same cached
instances, same backends). ``FileClient`` used anywhere else still warns. The original stays reachable as
``QuietFileClient.__wrapped__``.
"""
import importlib
import logging
from typing import Optional

from mmengine.fileio import FileClient

LOADING_MODULE = 'mmaction.datasets.transforms.loading'
#: the beginnings of the two deprecation messages that are dropped
DEPRECATION_MESSAGES = ('"FileClient" will be deprecated in future', '"HardDiskBackend" is the alias of "LocalBackend"')


class _DropDeprecation(logging.Filter):
    """Drop the log records of :data:`DEPRECATION_MESSAGES`, let everything else through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DEPRECATION_MESSAGES)


_FILTER = _DropDeprecation()


class QuietFileClient(FileClient):
    """mmengine's ``FileClient`` without its deprecation warnings (for mmaction2's loaders, which build it)."""

    __wrapped__ = FileClient

    def __new__(cls, backend: Optional[str] = None, prefix: Optional[str] = None, **kwargs) -> FileClient:
        from mmengine.logging import MMLogger
        logger = MMLogger.get_current_instance()  # the logger print_log(logger='current') writes to
        logger.addFilter(_FILTER)
        try:
            return super().__new__(cls, backend, prefix, **kwargs)
        finally:
            logger.removeFilter(_FILTER)


def quiet_file_client_deprecation() -> None:
    """Make mmaction2's loading transforms build :class:`QuietFileClient` (idempotent)."""
    module = importlib.import_module(LOADING_MODULE)
    if module.FileClient is FileClient:
        module.FileClient = QuietFileClient
