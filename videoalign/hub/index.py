"""The model index: every entry of every metafile the hub knows, by name.

Metafiles come from, in this order:

1. the ``Import`` list of ``model-index.yml`` (written by ``tools/analysis/gen_model_zoo.py`` from
   ``configs/*/metafile.yml``) at the index root (:func:`index_root`): the root of the source tree in a checkout or
   an editable install, else ``videoalign/.mim`` of the installed package (a wheel carries ``.mim/model-index.yml``,
   ``.mim/configs`` and ``.mim/tools``; see ``setup.py``), wherever the current directory is;
2. the environment variable ``VIDEOALIGN_METAFILES`` (paths separated by ``os.pathsep``): your own metafiles;
3. :func:`register_metafile` calls.

A name may appear once across all of them (aliases included).

Your own metafiles (2 and 3) may list checkpoints of an existing config under names of your choosing (the metafiles
of the index name an entry with a ``Config`` after it, ``<config folder>/<config stem>``), and their ``Weights`` may
be a local file (``file:///abs/path.pth``, ``/abs/path.pth``, ``~/path.pth``, or ``./path.pth`` relative to the
metafile), e.g. a checkpoint published by ``tools/analysis/publish_model.py``::

    # ~/my-metafile.yml, used with VIDEOALIGN_METAFILES=~/my-metafile.yml
    Collections:
      - Name: Mine
    Models:
      - Name: mine/r3d-tiny-finetuned
        In Collection: Mine
        Config: configs/quickstart/r3d-tiny-8f_synthetic.py   # of the installed package, or relative to this file
        Weights: ./r3d-tiny-finetuned-1a2b3c4d.pth
        SHA256: 1a2b3c4d...                                    # checked on every use (see videoalign.hub.api)

``init_model('mine/r3d-tiny-finetuned', 'videoalign://mine/r3d-tiny-finetuned')`` then builds and loads it.
"""
import fnmatch
import os
import os.path as osp
from difflib import get_close_matches
from typing import Dict, List, Optional, Tuple

import yaml

from .errors import MetafileError
from .metafile import Collection, ModelEntry, load_metafile

ENV_METAFILES = 'VIDEOALIGN_METAFILES'
SCHEME = 'videoalign://'
PACKAGE_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def index_root(package_root: str = PACKAGE_ROOT) -> str:
    """Where ``model-index.yml``, ``configs/`` and ``tools/`` are, for the package at ``package_root``.

    Args:
        package_root (str): The folder of the ``videoalign`` package. Defaults to this one.

    Returns:
        str: The source tree (the folder above the package, where it has ``setup.py``, ``model-index.yml`` and
        ``configs/``: a checkout or an editable install), else ``<package_root>/.mim`` (an installed wheel; a stale
        ``.mim`` left in a checkout is never read).
    """
    source = osp.dirname(package_root)
    if all(osp.exists(osp.join(source, name)) for name in ('setup.py', 'model-index.yml', 'configs')):
        return source
    return osp.join(package_root, '.mim')


INDEX_ROOT = index_root()
MODEL_INDEX = osp.join(INDEX_ROOT, 'model-index.yml')

_registered: List[str] = []
_cache: Dict[tuple, Tuple[Dict[str, Collection], Dict[str, ModelEntry], Dict[str, str]]] = {}


def read_model_index(path: str = MODEL_INDEX) -> List[str]:
    """The metafiles listed by a ``model-index.yml`` (``Import``), as absolute paths.

    Args:
        path (str): The index file. Defaults to the one at the index root (:func:`index_root`).

    Returns:
        list[str]: The metafiles; empty if ``path`` does not exist (a package installed without its ``.mim``).
    """
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    imports = data.get('Import') if isinstance(data, dict) else None
    if not isinstance(imports, list) or not all(isinstance(p, str) for p in imports):
        raise MetafileError(f'{path}: Import: expected a list of metafile paths')
    return [osp.normpath(osp.join(osp.dirname(osp.abspath(path)), p)) for p in imports]


def register_metafile(path: str) -> None:
    """Add a metafile (e.g. your own entries) to the index of this process; it is checked right away.

    Args:
        path (str): The ``metafile.yml``.

    Raises:
        MetafileError: If it is malformed or repeats a name the index already has.
    """
    path = osp.abspath(osp.expanduser(path))
    load_metafile(path, strict_names=False)
    if path not in _registered:
        _registered.append(path)
        try:
            _load_index()
        except MetafileError:
            _registered.remove(path)
            raise


def metafile_paths(own: Optional[List[str]] = None) -> List[str]:
    """The metafiles of the index, in the order they are read (see the module docstring).

    Args:
        own (list[str], optional): The package's metafiles if already read (:func:`read_model_index`). Defaults to
            None: read them.

    Returns:
        list[str]: Absolute paths, each once.
    """
    paths = read_model_index() if own is None else list(own)
    paths += [osp.abspath(osp.expanduser(p)) for p in os.environ.get(ENV_METAFILES, '').split(os.pathsep) if p]
    paths += _registered
    return list(dict.fromkeys(paths))


def _load_index() -> Tuple[Dict[str, Collection], Dict[str, ModelEntry], Dict[str, str]]:
    """(collections, entries by name, alias -> name), read again whenever a metafile changes."""
    own = read_model_index()  # the package's metafiles: names follow their configs
    paths = metafile_paths(own)
    key = tuple((p, osp.getmtime(p) if osp.isfile(p) else None) for p in paths)
    if key in _cache:
        return _cache[key]
    own = set(own)
    collections, entries, aliases, origin = {}, {}, {}, {}
    for path in paths:
        file_collections, models = load_metafile(path, strict_names=path in own)
        for collection in file_collections:
            collections.setdefault(collection.name, collection)
        for model in models:
            for name in (model.name, ) + model.aliases:
                if name in origin:
                    raise MetafileError(f'{path}: {model.name}: the name {name!r} is already used in {origin[name]}')
                origin[name] = path
            entries[model.name] = model
            aliases.update((alias, model.name) for alias in model.aliases)
    _cache.clear()
    _cache[key] = (collections, entries, aliases)
    return _cache[key]


def strip_scheme(name: str) -> str:
    """``'videoalign://xclip/vit-b16-8f_k400'`` -> ``'xclip/vit-b16-8f_k400'``; other names as they are."""
    return name[len(SCHEME):] if name.startswith(SCHEME) else name


def list_models(pattern: Optional[str] = None) -> List[str]:
    """The names of the index, sorted, optionally filtered.

    Args:
        pattern (str, optional): A shell pattern (``fnmatch``, e.g. ``'xclip/*k400'``) matched against names and
            aliases. Defaults to None (all).

    Returns:
        list[str]: Entry names (an alias that matches gives its entry's name).
    """
    _, entries, aliases = _load_index()
    if pattern is None:
        return sorted(entries)
    pattern = strip_scheme(pattern)
    names = {n for n in entries if fnmatch.fnmatchcase(n, pattern)}
    names |= {aliases[a] for a in aliases if fnmatch.fnmatchcase(a, pattern)}
    return sorted(names)


def get_model_info(name: str) -> ModelEntry:
    """The entry of a name or alias (a ``videoalign://`` prefix is allowed).

    Args:
        name (str): E.g. ``'xclip/vit-b16-8f_k400'``.

    Returns:
        ModelEntry: The entry.

    Raises:
        KeyError: If the name is unknown; the message suggests close names and says where entries come from.
    """
    _, entries, aliases = _load_index()
    key = strip_scheme(name)
    key = aliases.get(key, key)
    if key in entries:
        return entries[key]
    close = get_close_matches(key, list(entries) + list(aliases), n=5, cutoff=0.6)
    hint = f'; did you mean {", ".join(close)}?' if close else ''
    raise KeyError(f'no model named {name!r} in the model index ({len(entries)} entries from '
                   f'{len(metafile_paths())} metafiles{hint}). List them with `python tools/download.py --list`; add '
                   f'your own with {ENV_METAFILES} or videoalign.hub.register_metafile(path).')


def get_config_path(name: str) -> str:
    """The config file of an entry: its ``Config`` path, relative to the metafile's folder or to the root of the
    model index (where ``model-index.yml`` is, in a source tree or an installed package), whichever exists.

    Args:
        name (str): An entry name or alias, e.g. ``'xclip/vit-b16-8f_k400'``.

    Returns:
        str: An absolute path.

    Raises:
        KeyError: If the name is unknown.
        FileNotFoundError: If the entry has no config, or its config is not found.
    """
    entry = get_model_info(name)
    if entry.config is None:
        raise FileNotFoundError(f'{entry.name} has no Config in {entry.metafile}')
    candidates = [osp.join(osp.dirname(entry.metafile), entry.config), osp.join(osp.dirname(MODEL_INDEX), entry.config)]
    for path in candidates:
        if osp.isfile(path):
            return osp.abspath(path)
    raise FileNotFoundError(f'{entry.name}: its config {entry.config} is not at {" nor ".join(candidates)}')


def get_collection(name: str) -> Optional[Collection]:
    """The ``Collections`` entry of a name, or None."""
    return _load_index()[0].get(name)
