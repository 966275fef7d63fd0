"""The errors of the model hub: every message names the entry, the address and the local path involved."""
from typing import Optional


class HubError(RuntimeError):
    """Base class of the hub's errors."""


class MetafileError(ValueError):
    """A metafile or the model index is malformed (the message names the file and the key)."""


class DownloadError(HubError):
    """A download failed or was cut off; a partial file is kept as ``<path>.part`` and resumed by the next try."""


class OfflineError(DownloadError):
    """A file is needed but ``VIDEOALIGN_OFFLINE`` is set."""


class ManualDownloadError(HubError):
    """The file is on a host that needs a browser (Google Drive, Baidu Pan): the user downloads it by hand."""


class ChecksumError(HubError):
    """A file's sha256 differs from the expected one; the file has been deleted.

    Args:
        path (str): The file (deleted).
        expected (str): The official or recorded sha256.
        actual (str): The file's sha256.
        source (str): What the file is (its address or entry name).
        advice (str, optional): What to do, replacing the default advice (download it again). Defaults to None.
        deleted (bool): Whether the file was deleted (a download); False for a local file the hub uses where it is.
            Defaults to True.
    """

    def __init__(self,
                 path: str,
                 expected: str,
                 actual: str,
                 source: str,
                 advice: Optional[str] = None,
                 deleted: bool = True) -> None:
        self.path, self.expected, self.actual, self.source = path, expected, actual, source
        advice = advice or ('download it again, and if the mismatch persists the file at the source has changed or '
                            'is not the one listed.')
        what = 'was deleted' if deleted else 'was left where it is and not used'
        super().__init__(f'sha256 mismatch for {source}: expected {expected}, got {actual}. The file ({path}) {what}; '
                         f'{advice}')


class FormatError(HubError):
    """A published file is not what its entry says it is (a web page, a cut or damaged archive, ...); the file has
    been deleted and no hash was recorded."""
