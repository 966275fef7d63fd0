"""Reading class names from mmaction2 label maps and ``id,name`` CSV files.

Two formats are read:

- a label map (mmaction2's ``label_map_k400.txt``): one class name per line, the line order gives the ids;
- an ``id,name`` CSV (X-CLIP's ``labels/*.csv``), with or without an ``id,name`` header row; the ids must be
  ``0 .. K-1`` in any order, and the names are returned sorted by id.

A file is read as a CSV when its name ends with ``.csv``, when its first row is the ``id,name`` header, or when every
row starts with an integer followed by a comma; otherwise as a label map.
"""
import csv
import os
import os.path as osp
import re
from typing import List, Sequence, Tuple, Union

_CSV_ROW = re.compile(r'^\s*-?\d+\s*,')


def _read_lines(path: str) -> List[str]:
    """The lines of a UTF-8 text file (a byte-order mark is dropped), trailing blank lines removed."""
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'class-name file not found: {path!r} (expected a label map with one class name per '
                                f'line, or an "id,name" CSV)')
    with open(path, encoding='utf-8-sig', newline='') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _is_header(line: str) -> bool:
    """Whether ``line`` is the ``id,name`` header row."""
    return [cell.strip().lower() for cell in line.split(',')] == ['id', 'name']


def _parse_label_map(path: str, lines: List[str]) -> List[str]:
    """Class names of a label map: one per line, no blank line."""
    names = []
    for lineno, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise ValueError(f'{path}, line {lineno}: blank line in a label map (one class name per line; a blank '
                             f'line would shift the ids of the classes after it)')
        names.append(name)
    return names


def _parse_csv(path: str, lines: List[str]) -> List[str]:
    """Class names of an ``id,name`` CSV, sorted by id; the ids must be exactly ``0 .. K-1``."""
    start = 1 if lines and _is_header(lines[0]) else 0
    rows: List[Tuple[int, int, str]] = []  # (line number, id, name)
    first_line_of_id = {}
    for offset, cells in enumerate(csv.reader(lines[start:])):
        lineno = start + offset + 1
        if not cells or not ''.join(cells).strip():
            raise ValueError(f'{path}, line {lineno}: blank line in an "id,name" CSV')
        if len(cells) != 2:
            raise ValueError(f'{path}, line {lineno}: expected 2 fields "id,name", got {len(cells)}: '
                             f'{lines[lineno - 1]!r}')
        try:
            class_id = int(cells[0].strip())
        except ValueError:
            raise ValueError(f'{path}, line {lineno}: the id {cells[0].strip()!r} is not an integer') from None
        name = cells[1].strip()
        if not name:
            raise ValueError(f'{path}, line {lineno}: empty class name for id {class_id}')
        if class_id in first_line_of_id:
            raise ValueError(f'{path}, line {lineno}: duplicate id {class_id} (first on line '
                             f'{first_line_of_id[class_id]})')
        first_line_of_id[class_id] = lineno
        rows.append((lineno, class_id, name))
    num_classes = len(rows)
    if num_classes == 0:
        raise ValueError(f'{path}: no class names')
    # with unique ids, an id outside 0 .. K-1 is exactly what leaves some id of 0 .. K-1 missing
    for lineno, class_id, _ in rows:
        if not 0 <= class_id < num_classes:
            missing = sorted(set(range(num_classes)) - set(first_line_of_id))
            raise ValueError(f'{path}, line {lineno}: id {class_id} is out of range; the ids of {num_classes} '
                             f'classes must be 0..{num_classes - 1}, and {missing} are missing')
    return [name for _, _, name in sorted(rows, key=lambda row: row[1])]


def load_class_names(path: Union[str, os.PathLike]) -> List[str]:
    """Read class names from a label map (one per line) or an ``id,name`` CSV (sorted by id).

    Args:
        path (str | os.PathLike): The file.

    Returns:
        list[str]: The class names; element ``i`` is the name of class ``i``.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file is malformed (the message names the file and the line): a blank line, a CSV row
            that is not ``id,name``, a non-integer, duplicate or out-of-range id (the ids must be ``0 .. K-1``), an
            empty name, or no class at all.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    is_csv = bool(lines) and (path.lower().endswith('.csv') or _is_header(lines[0])
                              or all(_CSV_ROW.match(line) for line in lines))
    names = _parse_csv(path, lines) if is_csv else _parse_label_map(path, lines)
    if not names:
        raise ValueError(f'{path}: no class names')
    return names


def check_class_names(class_names: Sequence[str]) -> List[str]:
    """Check a list of class names (not a file): a non-empty sequence of non-empty str.

    Args:
        class_names (Sequence[str]): The names.

    Returns:
        list[str]: The class names (a new list).

    Raises:
        TypeError: If ``class_names`` is a str or path (a file is read by the dataset, not here) or holds a non-str.
        ValueError: If the sequence is empty or holds an empty name.
    """
    if isinstance(class_names, (str, os.PathLike)):
        raise TypeError(f'class names are a list of str, got the file name {os.fspath(class_names)!r}; a label map is '
                        f'read by the dataset (VideoDataset(class_names=...)) or load_class_names')
    if not isinstance(class_names, Sequence):
        raise TypeError(f'class_names must be a list of str, got {type(class_names).__name__}')
    names = list(class_names)
    if not names:
        raise ValueError('class_names is empty')
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f'class_names[{i}] is a {type(name).__name__}, not a str: {name!r}')
        if not name.strip():
            raise ValueError(f'class_names[{i}] is empty')
    return names


def resolve_class_names(class_names: Union[Sequence[str], str, os.PathLike]) -> List[str]:
    """Class names given directly (checked by :func:`check_class_names`) or as a file (:func:`load_class_names`).

    Args:
        class_names (Sequence[str] | str | os.PathLike): The names, or the path of a label map or ``id,name`` CSV.
            A str is always a path.

    Returns:
        list[str]: The class names (a new list).
    """
    if isinstance(class_names, (str, os.PathLike)):
        return load_class_names(class_names)
    return check_class_names(class_names)
