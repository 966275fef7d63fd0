"""The errors of the model hub: every message names the entry, the address and the local path involved."""


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
    """A file's sha256 differs from the expected one; the file has been deleted."""

    def __init__(self, path: str, expected: str, actual: str, source: str) -> None:
        self.path, self.expected, self.actual, self.source = path, expected, actual, source
        super().__init__(f'sha256 mismatch for {source}: expected {expected}, got {actual}. The file ({path}) was '
                         f'deleted; download it again, and if the mismatch persists the file at the source has '
                         f'changed or is not the one listed.')
