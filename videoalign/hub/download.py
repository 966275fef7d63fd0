"""Downloading one file over HTTP(S): resumable, atomic, verified.

The bytes go to ``<path>.part``; an interrupted transfer keeps it, and the next try asks the server for the rest
(``Range: bytes=<size>-``) or, if the server does not resume, starts over. Only a complete transfer (as long as the
server's ``Content-Length`` says) whose sha256 matches (or that the caller's ``verify`` accepts: a server that sends
no ``Content-Length`` can only be checked by the file's format) is flushed to disk (``fsync``) and renamed to
``<path>`` (``os.replace``), so a file at ``<path>`` is always whole. The caller holds the lock of ``<path>``
(:func:`~videoalign.hub.cache.locked`).
"""
import http.client
import os
import os.path as osp
import re
import socket
import time
import urllib.error
import urllib.request
from typing import Callable, Optional

from ..utils.fileio import fsync_dir
from ..version import __version__
from .errors import ChecksumError, DownloadError, FormatError
from .verify import check_sha256, sha256_of

CHUNK_SIZE = 1 << 20
TIMEOUT_S = 60.
RETRIES = 3  # further tries, each resuming where the last one stopped
RETRY_WAIT_S = 1.  # seconds before the n-th retry: n * RETRY_WAIT_S
_TRANSIENT_HTTP = (408, 429, 500, 502, 503, 504)
_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(\d+|\*)')


def _progress_bar(total: Optional[int], initial: int, desc: str, enabled: bool):
    """A byte progress bar: tqdm where installed (open_clip depends on it), else a silent stand-in."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    if tqdm is None or not enabled:
        return _NoBar()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit='B',
        unit_scale=True,
        unit_divisor=1024,
        mininterval=1.,
        dynamic_ncols=True)


class _NoBar:

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _open(url: str, offset: int, timeout: float):
    """Send the request (with a Range header past ``offset``); return the response."""
    headers = {'User-Agent': f'videoalign/{__version__}'}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _transfer(url: str, part: str, desc: str, progress: bool, timeout: float) -> None:
    """One request: append the rest of the file to ``part``. Raises OSError / HTTPException when cut off."""
    offset = osp.getsize(part) if osp.isfile(part) else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # nothing left to send, or the partial file is longer than the file
            os.remove(part)
            response = _open(url, 0, timeout)
            offset = 0
        else:
            raise
    with response:
        total = response.headers.get('Content-Length')
        total = int(total) if total is not None else None
        if offset and response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get('Content-Range', ''))
            if match is None or int(match.group(1)) != offset:
                raise DownloadError(f'{url}: the server answered the range request from byte {offset} with '
                                    f'Content-Range {response.headers.get("Content-Range")!r}')
            mode = 'ab'
        else:  # a whole file: the server ignores ranges, or this is the first request
            offset, mode = 0, 'wb'
        expected_size = None if total is None else offset + total
        bar = _progress_bar(expected_size, offset, desc, progress)
        written = offset
        try:
            with open(part, mode) as f:
                for chunk in iter(lambda: response.read(CHUNK_SIZE), b''):
                    f.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                f.flush()
                os.fsync(f.fileno())
        finally:
            bar.close()
    if expected_size is not None and written != expected_size:
        raise http.client.IncompleteRead(b'', expected_size - written)


def download_file(url: str,
                  path: str,
                  sha256: Optional[str] = None,
                  progress: bool = True,
                  desc: Optional[str] = None,
                  timeout: float = TIMEOUT_S,
                  retries: int = RETRIES,
                  on_failure: Optional[Callable[[str], str]] = None,
                  verify: Optional[Callable[[str], str]] = None) -> str:
    """Download ``url`` to ``path`` through ``<path>.part``, resuming and retrying, then verify and rename.

    Args:
        url (str): The address.
        path (str): Where the complete file goes (its folder is created).
        sha256 (str, optional): The expected hash. A mismatch deletes the file and raises; if the transfer had
            resumed an earlier partial file, the whole file is downloaded once more first. Defaults to None.
        progress (bool): Show a progress bar. Defaults to True.
        desc (str, optional): The label of the progress bar. Defaults to the file name.
        timeout (float): Seconds of silence before a request counts as failed. Defaults to 60.
        retries (int): Further requests after a failed one, each resuming. Defaults to 3.
        on_failure (Callable[[str], str], optional): Turns the failure's description into the error message
            (the caller adds what the user can do). Defaults to None.
        verify (Callable[[str], str], optional): Checks the complete ``<path>.part`` in place of ``sha256`` and returns
            its sha256, or deletes it and raises ``ChecksumError`` or ``FormatError`` (e.g.
            :func:`~videoalign.hub.verify.verify_published`). Defaults to None.

    Returns:
        str: The sha256 of the file now at ``path``.

    Raises:
        DownloadError: The transfer failed ``retries + 1`` times; ``<path>.part`` is kept for the next try.
        ChecksumError: The complete file does not have the expected hash (it was deleted).
        FormatError: ``verify`` refused the complete file (it was deleted).
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    part = path + '.part'
    desc = desc or osp.basename(path)
    resumed = osp.isfile(part) and osp.getsize(part) > 0
    restarted = False
    attempt = 0
    while True:
        try:
            _transfer(url, part, desc, progress, timeout)
        except (OSError, http.client.HTTPException, socket.timeout) as err:
            refused = isinstance(err, urllib.error.HTTPError) and err.code not in _TRANSIENT_HTTP
            if refused:  # the server refused (e.g. 404): retrying will not help
                raise DownloadError((on_failure or str)(f'{url} answered HTTP {err.code} {err.reason}')) from None
            if attempt < retries:
                attempt += 1
                resumed = True
                time.sleep(attempt * RETRY_WAIT_S)
                continue
            got = osp.getsize(part) if osp.isfile(part) else 0
            reason = getattr(err, 'reason', None) or err
            kept = f'{got} bytes are kept in {part} and the next try resumes from there' if got else \
                'nothing was received'
            raise DownloadError(
                (on_failure
                 or str)(f'downloading {url} failed after {attempt + 1} tries ({type(err).__name__}: {reason}); {kept}'
                         )) from None
        if sha256 is None and verify is None:
            actual = sha256_of(part)
        else:
            try:
                actual = verify(part) if verify is not None else check_sha256(part, sha256, url)
            except (ChecksumError, FormatError):
                if resumed and not restarted:  # the partial file may have come from another version: start over
                    restarted, resumed, attempt = True, False, 0
                    continue
                raise
        os.replace(part, path)
        fsync_dir(osp.dirname(osp.abspath(path)))
        return actual
