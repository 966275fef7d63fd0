"""Getting a model-zoo file by name: download (or take a file added by hand), verify, convert, cache.

``get_checkpoint('xclip/vit-b16-8f_k400')`` returns the path of the converted, verified file; the second call finds it
in the cache (and checks its hash) without touching the network. A local ``Weights`` (your own metafiles, see
:mod:`videoalign.hub.index`) is used where it is, after its hash is checked (:func:`fetch_local`). In a distributed
run rank 0 does the work first and the other ranks wait at a barrier, then find the file in the cache; every rank must
call it, as mmengine's loaders do.
"""
import functools
import os
import os.path as osp
import re
import shutil
import zipfile
from typing import Any, Callable, Optional, Tuple
from urllib.parse import urlparse

from mmengine.logging import print_log

from ..models.converters import convert_checkpoint
from ..utils.fileio import fsync_dir
from .cache import ENV_OFFLINE, converted_path, download_path, get_hub_dir, is_offline, locked, rank0_first
from .download import download_file
from .errors import ChecksumError, FormatError, HubError, ManualDownloadError, OfflineError
from .formats import expected_format, format_problem
from .index import get_model_info
from .metafile import ModelEntry
from .verify import HashStore, sha256_of, verify_published

_HOSTS = {'google-drive': 'Google Drive', 'baidu-pan': 'Baidu Pan'}
# the hash that ends the name of a published checkpoint: name-<sha256[:8]>.pth (tools/analysis/publish_model.py)
_NAME_HASH = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9]+$')


def record_key(entry: ModelEntry) -> str:
    """The key of the hash recorded for the published file of ``entry`` (no official one): its address, or
    ``file://<absolute path>`` for a local file."""
    return entry.weights if entry.local_file is None else 'file://' + entry.local_file


def fetch_local(entry: ModelEntry, force: bool = False) -> Tuple[str, str]:
    """Check the local ``Weights`` of ``entry`` and return it where it is (it is never copied, moved or deleted).

    Its sha256 must be the entry's ``SHA256``; without one, it must start with the hex digits that end the file's
    name (``name-<sha256[:8]>.pth``, as ``tools/analysis/publish_model.py`` names files); without those, it is recorded
    on first use (after a format check) and later uses are checked against the record.

    Args:
        entry (ModelEntry): An entry with ``local_file``.
        force (bool): Record the hash anew (a file without ``SHA256`` or a hash in its name). Defaults to False.

    Returns:
        tuple[str, str]: The path and its sha256.

    Raises:
        HubError: If the file does not exist.
        ChecksumError: If its hash differs from the expected one (the file is left alone).
        FormatError: If, on first use, it is not what the entry says it is (e.g. not a torch file).
    """
    path = entry.local_file
    if not osp.isfile(path):
        raise HubError(f'{entry.name}: its Weights {entry.weights} is {path}, which does not exist. Put the file '
                       f'there, or correct Weights in {entry.metafile}.')
    actual = sha256_of(path)
    source = f'{entry.name} ({path})'
    fix = f'If the file is the one you mean, correct SHA256 in {entry.metafile} (it is now {actual}).'
    if entry.sha256:
        if actual != entry.sha256:
            raise ChecksumError(path, entry.sha256, actual, source, advice=fix, deleted=False)
        return path, actual
    match = _NAME_HASH.search(osp.basename(path))
    if match:
        if not actual.startswith(match.group(1)):
            raise ChecksumError(
                path,
                f'{match.group(1)}... (the end of its name)',
                actual,
                source,
                advice='the file was changed after it was published, or renamed; publish it again with '
                'tools/analysis/publish_model.py, or set SHA256 in its metafile entry.',
                deleted=False)
        return path, actual
    store, key = HashStore(), record_key(entry)
    record = None if force else store.get('downloads', key)
    if record is not None:
        if record['sha256'] != actual:
            raise ChecksumError(
                path,
                record['sha256'],
                actual,
                source,
                advice=f'its hash was recorded on first use ({record.get("recorded")}) in {store.path}. If you changed '
                f'the file on purpose, set SHA256 in {entry.metafile} or record it anew with `python tools/download.py '
                f'--force {entry.name}`.',
                deleted=False)
        return path, actual
    problem = format_problem(path, expected_format(entry.converter, entry.file_name))
    if problem is not None:
        raise FormatError(f'{entry.name}: {path} {problem}. No hash was recorded; correct Weights in {entry.metafile}.')
    store.put('downloads', key, actual, entry=entry.name, file=path)
    print_log(
        f'{entry.name}: {path} has no SHA256 in {entry.metafile} and no hash in its name; recorded {actual} in '
        f'{store.path}, against which later uses are checked',
        logger='current')
    return path, actual


def _by_hand(entry: ModelEntry, path: str) -> str:
    """How to add the published file of ``entry`` by hand."""
    return (f'Download {entry.weights} yourself, then run `python tools/download.py --file <that file> {entry.name}` '
            f'(or put the file at {path}).')


def fetch_published(entry: ModelEntry,
                    file: Optional[str] = None,
                    progress: bool = True,
                    force: bool = False) -> Tuple[str, str]:
    """Make the published file of ``entry`` present and verified in the cache.

    A file without an official hash has its hash recorded (trust on first use) once it is complete and has the format
    its entry implies (see :func:`~videoalign.hub.verify.verify_published`).

    Args:
        entry (ModelEntry): The entry.
        file (str, optional): A copy the user downloaded by hand; it is copied into the cache once verified.
            Defaults to None (download, or use the cached file).
        progress (bool): Show a progress bar while downloading. Defaults to True.
        force (bool): Fetch the file again (download it, or take ``file``) even if it is cached, and record its hash
            anew (replacing the record) where no official hash is published. An entry downloaded by hand, given no
            ``file``, takes the cached file again. Defaults to False.

    Returns:
        tuple[str, str]: The cached path and its sha256.

    Raises:
        HubError: If the entry has no published file.
        ManualDownloadError: If the file must be downloaded by hand and is not in the cache.
        OfflineError: If a download is needed and ``VIDEOALIGN_OFFLINE`` is set.
        DownloadError: If the download fails.
        ChecksumError: If the file's sha256 differs from the official or recorded one (the file is deleted).
        FormatError: If the file is not what the entry says it is, e.g. a web page (the file is deleted).
    """
    if entry.weights is None:
        raise HubError(f'{entry.name} has no published weights{": " + entry.note if entry.note else ""}')
    if entry.local_file is not None:
        if file is not None:
            raise HubError(f'{entry.name}: its Weights is the local file {entry.local_file}, so there is nothing to '
                           f'add by hand; pass no file')
        return fetch_local(entry, force)
    path = download_path(entry.method, entry.weights, entry.file_name)
    store = HashStore()
    todo = _by_hand(entry, path)
    with locked(path):
        old = None if entry.sha256 else store.get('downloads', entry.weights)
        record = None if force else old
        verify = functools.partial(verify_published, entry=entry, record=record, store=store, todo=todo)
        if file is not None:
            actual = _add_file(file, path, verify)
        elif osp.isfile(path) and (entry.manual or not force):
            actual = verify(path, origin=entry.weights, cached=True)
        elif entry.manual:
            raise ManualDownloadError(
                f'{entry.name}: the published file is on {_HOSTS[entry.download]}, which needs a browser. '
                f'{entry.instructions.strip()} Address: {entry.weights}. Then run `python tools/download.py --file '
                f'<downloaded file> {entry.name}` (or put the file at {path}).')
        elif is_offline():
            raise OfflineError(f'{entry.name} needs {entry.weights}, but {ENV_OFFLINE} is set. ' + todo)
        else:
            if force and osp.isfile(path + '.part'):  # start from scratch: it may hold part of the old version
                os.remove(path + '.part')
            actual = download_file(
                entry.weights,
                path,
                progress=progress,
                desc=entry.name,
                on_failure=lambda reason: f'{entry.name}: {reason}. ' + todo,
                verify=functools.partial(verify, origin=entry.weights))
        if entry.sha256 is None and record is None:
            store.put(
                'downloads',
                entry.weights,
                actual,
                entry=entry.name,
                file=osp.relpath(path, get_hub_dir()).replace(os.sep, '/'))
            replaced = f' (replacing {old["sha256"]}, recorded {old.get("recorded")})' if old else ''
            print_log(
                f'{entry.name}: no official sha256 is published; recorded {actual}{replaced} in {store.path}, against '
                f'which later downloads and uses of {osp.basename(path)} are checked',
                logger='current')
    return path, actual


def _add_file(file: str, path: str, verify: Callable[..., str]) -> str:
    """Copy a file the user downloaded into the cache at ``path`` (through ``<path>.part``), verified by ``verify``
    (:func:`~videoalign.hub.verify.verify_published` bound to the entry); the user's file is never deleted."""
    file = osp.abspath(osp.expanduser(file))
    if not osp.isfile(file):
        raise FileNotFoundError(f'--file {file} does not exist')
    if osp.isfile(path) and osp.samefile(file, path):
        return verify(path, origin=file, cached=True)
    os.makedirs(osp.dirname(path), exist_ok=True)
    part = path + '.part'
    shutil.copyfile(file, part)
    with open(part, 'rb') as f:
        os.fsync(f.fileno())
    actual = verify(part, origin=file)
    os.replace(part, path)
    fsync_dir(osp.dirname(path))
    return actual


def _converted_ok(store: HashStore, path: str) -> bool:
    """Check a converted file against its recorded hash; a mismatch removes it (it is then converted again)."""
    key = store.converted_key(path)
    record = store.get('converted', key)
    actual = sha256_of(path)
    if record is None:  # written by a process that ended before recording it, or the record was removed
        store.put('converted', key, actual)
        return True
    if record['sha256'] == actual:
        return True
    print_log(
        f'{path}: sha256 {actual} differs from the recorded {record["sha256"]}; converting it again',
        logger='current',
        level=30)
    os.remove(path)
    store.remove('converted', key)
    return False


def _get_checkpoint(entry: ModelEntry, file: Optional[str], progress: bool, force: bool) -> str:
    """:func:`get_checkpoint` in one process: the cached converted file if it checks out, else fetch and convert."""
    store = HashStore()
    if entry.converter is None:
        path, _ = fetch_published(entry, file, progress, force)
        if entry.note:
            print_log(f'{entry.name}: {entry.note}', logger='current')
        return path
    source_sha = entry.sha256 or (store.get('downloads', record_key(entry)) or {}).get('sha256')
    if source_sha and file is None and not force:
        dst = converted_path(entry.method, entry.short_name, source_sha)
        with locked(dst):
            if osp.isfile(dst) and _converted_ok(store, dst):
                return dst
    src, source_sha = fetch_published(entry, file, progress, force)
    dst = converted_path(entry.method, entry.short_name, source_sha)
    with locked(dst):
        if osp.isfile(dst) and not force and _converted_ok(store, dst):
            return dst
        print_log(f'{entry.name}: converting {src} with the {entry.converter!r} converter', logger='current')
        try:
            convert_checkpoint(
                entry.converter,
                src,
                dst,
                entry.converter_options,
                name=entry.name,
                method=entry.method,
                converted_from=entry.weights,
                source_sha256=source_sha)
        except TypeError as err:  # Converter Options that do not fit the converter
            raise HubError(f'{entry.name} ({entry.metafile}): Converter {err}') from None
        store.put('converted', store.converted_key(dst), sha256_of(dst), entry=entry.name, source_sha256=source_sha)
    return dst


def get_checkpoint(name: str, file: Optional[str] = None, progress: bool = True, force: bool = False) -> str:
    """The local path of a model-zoo file: converted to videoalign's layout (if the entry has a converter), verified.

    Args:
        name (str): An entry name or alias, with or without ``videoalign://``.
        file (str, optional): The published file, downloaded by hand (Google Drive, Baidu Pan, or no network);
            verified, copied into the cache and converted. Defaults to None.
        progress (bool): Show a progress bar while downloading. Defaults to True.
        force (bool): Fetch the published file again (download it, or take ``file``; see :func:`fetch_published`),
            record its hash anew where no official hash is published, and convert it again. Defaults to False.

    Returns:
        str: The converted file (``<hub>/checkpoints/<method>/<name>_<sha8>.pth``, holding ``{'state_dict', 'meta'}``),
        or the published file itself for an entry without a converter.

    Raises:
        KeyError: If the name is unknown.
        HubError: See :func:`fetch_published`; all name the address and where to put the file.
    """
    entry = get_model_info(name)
    return rank0_first(lambda: _get_checkpoint(entry, file, progress, force))


def _is_torch_file(path: str) -> bool:
    """Whether ``path`` looks like a ``torch.save`` file (a zip archive or a pickle of protocol 2 or later)."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'


def load_checkpoint(name: str, map_location: Any = 'cpu') -> dict:
    """Load a model-zoo checkpoint by name: tensors and plain containers only (nothing is unpickled as code).

    Args:
        name (str): An entry name or alias, with or without ``videoalign://``.
        map_location (Any): As in :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        dict: The checkpoint, ``{'state_dict': ..., 'meta': ...}`` for a converted entry.

    Raises:
        ValueError: If the entry's file is not a checkpoint (e.g. a tokenizer vocabulary: use
            :func:`get_checkpoint` for its path).
        UnsafeCheckpointError: If the file pickles objects outside the allow-list of
            :mod:`videoalign.compat.checkpoint`.
    """
    from videoalign.compat.checkpoint import load_checkpoint_safely
    path = get_checkpoint(name)
    if not _is_torch_file(path):
        raise ValueError(f'{name}: {path} is not a torch checkpoint; use get_checkpoint({name!r}) for its path')
    return load_checkpoint_safely(path, map_location=map_location)


def cached_file(entry: ModelEntry) -> Optional[str]:
    """The cached file :func:`get_checkpoint` would return, if it is there (not verified), else None."""
    if entry.weights is None:
        return None
    if entry.converter is None:
        path = entry.local_file or download_path(entry.method, entry.weights, entry.file_name)
        return path if osp.isfile(path) else None
    sha = entry.sha256 or (HashStore().get('downloads', record_key(entry)) or {}).get('sha256')
    path = converted_path(entry.method, entry.short_name, sha) if sha else None
    return path if path and osp.isfile(path) else None


def host_of(entry: ModelEntry) -> str:
    """Where the published file is: ``'Google Drive'``, ``'Baidu Pan'``, ``'local file'`` or the host of its address."""
    if entry.local_file is not None:
        return 'local file'
    return _HOSTS.get(entry.download) or urlparse(entry.weights or '').netloc
