"""sha256 verification, and the store of hashes recorded where no official hash is published.

A published file whose metafile entry has no ``SHA256`` is trusted on first use: its hash is recorded in
``<hub>/sha256.json`` (keyed by its address) when it is first downloaded or added with ``tools/download.py --file``,
and every later download or use of the file is checked against the record. The hash of each converted file is
recorded when it is written and checked whenever it is loaded.
"""
import datetime
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional

from .cache import atomic_write, get_hub_dir, locked
from .errors import ChecksumError, HubError

STORE_NAME = 'sha256.json'
_CHUNK = 1 << 20


def sha256_of(path: str) -> str:
    """The sha256 of a file, in lower-case hex.

    Args:
        path (str): The file.

    Returns:
        str: 64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: str, expected: str, source: str) -> str:
    """Compare a file's sha256 with ``expected``; on a mismatch delete the file and raise.

    Args:
        path (str): The file.
        expected (str): The expected sha256.
        source (str): What the file is (its address or entry name), for the message.

    Returns:
        str: The sha256 (equal to ``expected``).

    Raises:
        ChecksumError: Naming the expected and the actual hash; the file is gone.
    """
    actual = sha256_of(path)
    if actual != expected.lower():
        os.remove(path)
        raise ChecksumError(path, expected.lower(), actual, source)
    return actual


class HashStore:
    """``<hub>/sha256.json``: ``{'downloads': {address: record}, 'converted': {relative path: record}}``.

    Each record holds ``sha256`` and ``recorded`` (UTC time) plus what it describes. Writes are atomic (a temporary
    file renamed over the old one) and made under a lock, so concurrent processes do not lose each other's records.
    """

    def __init__(self, hub_dir: Optional[str] = None) -> None:
        self.hub_dir = hub_dir or get_hub_dir()
        self.path = osp.join(self.hub_dir, STORE_NAME)

    def _read(self) -> Dict[str, Dict[str, dict]]:
        if not osp.isfile(self.path):
            return {'downloads': {}, 'converted': {}}
        try:
            with open(self.path, encoding='utf-8') as f:
                data = json.load(f)
        except (OSError, ValueError) as err:
            raise HubError(f'{self.path} is not readable JSON ({err}); move it away to start a new record '
                           f'(files without an official hash are then trusted again on their next use)') from None
        data.setdefault('downloads', {})
        data.setdefault('converted', {})
        return data

    def _write(self, data: dict) -> None:
        with atomic_write(self.path, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write('\n')

    def get(self, section: str, key: str) -> Optional[dict]:
        """The record of ``key`` in ``section`` (``'downloads'`` or ``'converted'``), or None."""
        return self._read()[section].get(key)

    def put(self, section: str, key: str, sha256: str, **info) -> None:
        """Record ``sha256`` (and ``info``) for ``key`` in ``section``."""
        with locked(self.path):
            data = self._read()
            data[section][key] = dict(
                sha256=sha256,
                recorded=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                **info)
            self._write(data)

    def remove(self, section: str, key: str) -> None:
        """Forget the record of ``key`` in ``section`` (if any)."""
        with locked(self.path):
            data = self._read()
            if data[section].pop(key, None) is not None:
                self._write(data)

    def converted_key(self, path: str) -> str:
        """The key of a converted file: its path relative to the hub folder."""
        return osp.relpath(osp.abspath(path), self.hub_dir).replace(os.sep, '/')
