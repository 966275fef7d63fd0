"""sha256 verification, and the store of hashes recorded where no official hash is published.

A published file whose metafile entry has no ``SHA256`` is trusted on first use: its hash is recorded in
``<hub>/sha256.json`` (keyed by its address) when it is first downloaded or added with ``tools/download.py --file``,
and every later download or use of the file is checked against the record. A hash is recorded only for a complete file
that has the format its entry implies (:mod:`videoalign.hub.formats`): a web page served in its place, or a transfer
cut short, is deleted and recorded nowhere. A record is replaced only on request (``tools/download.py --force NAME``).
An official hash is authoritative: a file that matches it is not checked further, and the format check only explains
a mismatch. The hash of each converted file is recorded when it is written and checked whenever it is loaded.
"""
import datetime
import hashlib
import json
import os
import os.path as osp
from typing import TYPE_CHECKING, Dict, Optional

from ..utils.fileio import atomic_write
from .cache import get_hub_dir, locked
from .errors import ChecksumError, HubError
from .formats import expected_format, format_problem, require_format

if TYPE_CHECKING:
    from .metafile import ModelEntry

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


def reset_command(entry: 'ModelEntry') -> str:
    """The command that fetches the published file of ``entry`` again and replaces its recorded hash."""
    by_hand = ' --file <the file you downloaded>' if entry.manual else ''
    return f'python tools/download.py --force{by_hand} {entry.name}'


def verify_published(path: str,
                     entry: 'ModelEntry',
                     origin: str,
                     record: Optional[dict],
                     store: HashStore,
                     todo: str,
                     cached: bool = False) -> str:
    """Check a copy of the published file of ``entry``: its hash, and (before a hash is trusted) its format.

    With an official hash, a match is authoritative and the format is checked only to explain a mismatch. Without
    one, the format is checked (see :mod:`videoalign.hub.formats`) and then the hash is compared with the record, if
    any; a cached file that matches its record was checked when it arrived and is not checked again. A file that fails
    is deleted. Recording the hash is the caller's (it holds the lock of the cached file).

    Args:
        path (str): The file: a complete download (``<path>.part``), a copy of a ``--file``, or the cached file.
        entry (ModelEntry): Its entry.
        origin (str): Where it came from, for messages (the address, or the file given with ``--file``).
        record (dict, optional): The record of ``entry.weights`` in ``store`` (None: first use, or ``force``).
        store (HashStore): The store the record is from, named in messages.
        todo (str): What the user can do if the file is refused (added to the message).
        cached (bool): Whether ``path`` is the file already in the cache. Defaults to False.

    Returns:
        str: The file's sha256.

    Raises:
        ChecksumError: The hash differs from the official or the recorded one.
        FormatError: The file is not what the entry says it is (a web page, a cut or damaged file, ...).
    """
    actual = sha256_of(path)
    source = f'{entry.name} ({origin})'
    if entry.sha256:
        if actual == entry.sha256:
            return actual
        problem = format_problem(path, expected_format(entry.converter, entry.file_name))  # only to explain
        os.remove(path)
        advice = None if problem is None else (f'it {problem}. Download it again, and if the mismatch persists '
                                               f'the file at the source has changed. {todo}')
        raise ChecksumError(path, entry.sha256, actual, source, advice=advice)
    if cached and record is not None and actual == record['sha256']:
        return actual
    retry = 'Try again (the download starts from scratch). ' if origin == entry.weights and not cached else ''
    require_format(path, expected_format(entry.converter, entry.file_name),
                   f'{entry.name}: the file from {origin} ({path})', f'No hash was recorded. {retry}{todo}')
    if record is not None and actual != record['sha256']:
        os.remove(path)
        raise ChecksumError(
            path,
            record['sha256'],
            actual,
            source,
            advice=f'no official sha256 is published for {entry.weights}, so its hash was recorded on first download '
            f'({record.get("recorded", "at an unknown time")}) in {store.path} and every later copy is checked '
            'against it. If the file was updated at the source and you trust the new one, reset the record '
            f'with `{reset_command(entry)}` (it fetches the file again and records its hash); otherwise the copy you '
            'got is not the file first downloaded.')
    return actual
