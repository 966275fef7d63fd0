"""What a published file must look like before its hash is trusted, checked without running any of its code.

A file whose entry has no official sha256 is trusted on first use (:mod:`videoalign.hub.verify`), so before its hash is
recorded the file must be complete and be what its entry says it is. The expected format follows from the entry:

=====================================  ===============================================================================
entry                                  the file must be
=====================================  ===============================================================================
``Converter: clip``                    a TorchScript archive or a ``torch.save`` file
``xclip``, ``aim``, ``dualpath``,      a ``torch.save`` file: a zip archive whose CRCs check and that holds
``efficient_prompt``, ``dvae``         ``<name>/data.pkl``, or torch's legacy format (a pickle, first byte ``0x80``)
                                       that :func:`~videoalign.models.converters.load_official_checkpoint` reads whole
no converter, ``.pth .pt .bin .pkl``   a ``torch.save`` file, as above
no converter, ``.json``                JSON (UTF-8)
no converter, ``.txt``                 UTF-8 text
no converter, any other name           anything
=====================================  ===============================================================================

A web page (``<!DOCTYPE html`` or ``<html`` first, after whitespace) is refused for every entry: servers answer a
login, quota or error page with HTTP 200.
"""
import json
import os
import re
import warnings
import zipfile
from typing import Optional

from .errors import FormatError

TORCH = 'torch'
TORCHSCRIPT_OR_TORCH = 'torchscript-or-torch'
JSON = 'json'
TEXT = 'text'
ANY = 'any'
DESCRIPTIONS = {
    TORCH: 'a torch.save file',
    TORCHSCRIPT_OR_TORCH: 'a TorchScript archive or a torch.save file',
    JSON: 'a JSON file',
    TEXT: 'a UTF-8 text file',
    ANY: 'the published file',
}
TORCH_CONVERTERS = ('xclip', 'aim', 'dualpath', 'efficient_prompt', 'dvae')
TORCH_EXTENSIONS = ('.pth', '.pt', '.bin', '.pkl')
WEB_PAGE = ('is a web page (HTML), not the file: the server sent a web page instead of the file (often a login, quota '
            'or error page; open the address in a browser to see it)')
_HTML_STARTS = (b'<!doctype html', b'<html')
_TORCH_DATA = re.compile(r'[^/]+/data\.pkl')


def expected_format(converter: Optional[str], file_name: str) -> str:
    """The format an entry's published file must have.

    Args:
        converter (str, optional): The entry's ``Converter``.
        file_name (str): The file's name in the cache (its extension decides where there is no converter).

    Returns:
        str: One of :data:`TORCH`, :data:`TORCHSCRIPT_OR_TORCH`, :data:`JSON`, :data:`TEXT`, :data:`ANY`.
    """
    if converter == 'clip':
        return TORCHSCRIPT_OR_TORCH
    if converter is not None or file_name.lower().endswith(TORCH_EXTENSIONS):
        return TORCH
    if file_name.lower().endswith('.json'):
        return JSON
    if file_name.lower().endswith('.txt'):
        return TEXT
    return ANY


def is_web_page(path: str) -> bool:
    """Whether a file starts like an HTML page (``<!DOCTYPE html`` or ``<html``, any case, after whitespace).

    Args:
        path (str): The file.

    Returns:
        bool: True for a web page.
    """
    with open(path, 'rb') as f:
        head = f.read(4096)
    head = head.lstrip(b'\xef\xbb\xbf').lstrip().lower()
    return head.startswith(_HTML_STARTS)


def _torch_problem(path: str) -> Optional[str]:
    """What keeps ``path`` from being a complete ``torch.save`` file or TorchScript archive, or None."""
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(path):
            return 'is a zip archive that is cut short or damaged (its directory is missing): the transfer was ' \
                   'probably cut off'
        try:
            with zipfile.ZipFile(path) as archive:
                bad, names = archive.testzip(), archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            return f'is a damaged zip archive ({err})'
        if bad is not None:
            return f'is a damaged zip archive: the checksum (CRC) of {bad} does not match'
        if not any(_TORCH_DATA.fullmatch(name) for name in names):
            return 'is a zip archive, but not one written by torch (it holds no <name>/data.pkl)'
        return None
    if head[:1] == b'\x80':
        from videoalign.models.converters import load_official_checkpoint
        try:
            with warnings.catch_warnings():  # torch's legacy format compares pickled modules' source with classes'
                warnings.simplefilter('ignore')
                load_official_checkpoint(path)
        except Exception as err:  # noqa: BLE001  (any failure to read it whole means it is not a whole torch file)
            return f'is not a complete torch file in the legacy format ({type(err).__name__}: {err}); the transfer ' \
                   f'was probably cut off'
        return None
    return 'is neither a zip archive nor a pickle, so no torch file'


def format_problem(path: str, kind: str) -> Optional[str]:
    """What is wrong with a file that should have the format ``kind``, or None if it has it.

    Args:
        path (str): The file.
        kind (str): A format of :func:`expected_format`.

    Returns:
        str | None: A description that follows the file's name (e.g. ``'is a web page (HTML), ...'``), or None.
    """
    if is_web_page(path):
        return WEB_PAGE
    if kind in (TORCH, TORCHSCRIPT_OR_TORCH):
        problem = _torch_problem(path)
    elif kind == JSON:
        try:
            with open(path, encoding='utf-8') as f:
                json.load(f)
            problem = None
        except (ValueError, UnicodeDecodeError) as err:
            problem = f'is not valid JSON ({err}); the transfer may have been cut off'
    elif kind == TEXT:
        try:
            with open(path, encoding='utf-8') as f:
                f.read()
            problem = None
        except UnicodeDecodeError as err:
            problem = f'is not UTF-8 text ({err})'
    else:
        problem = None
    return None if problem is None else f'{problem} (expected {DESCRIPTIONS[kind]})'


def require_format(path: str, kind: str, what: str, todo: str) -> None:
    """Delete ``path`` and raise if it does not have the format ``kind``.

    Args:
        path (str): The file.
        kind (str): A format of :func:`expected_format`.
        what (str): What the file is, starting the message (e.g. ``'<entry>: the file from <address> (<path>)'``).
        todo (str): What the user can do, ending the message.

    Raises:
        FormatError: ``'<what> <what is wrong>. It was deleted. <todo>'``.
    """
    problem = format_problem(path, kind)
    if problem is not None:
        os.remove(path)
        raise FormatError(f'{what} {problem}. It was deleted. {todo}')
