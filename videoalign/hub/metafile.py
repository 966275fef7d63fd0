"""Model-zoo metafiles: mmaction2's format (``Collections``, ``Models``) plus the keys videoalign's hub needs.

A ``Models`` entry::

    - Name: xclip/vit-b16-8f_k400                  # <method>/<name>; <name> is the config's stem
      In Collection: X-CLIP
      Config: configs/xclip/vit-b16-8f_k400.py     # optional
      Alias: [xclip-b16]                           # optional, other names
      Metadata: {Architecture: ViT-B/16, Pretrained: CLIP ViT-B/16, Frames: 8, Views: 4x3, Resolution: 224x224,
                 FLOPs: 145G, Parameters: 194.93M, Training Data: Kinetics-400}
      Results:
        - {Dataset: Kinetics-400, Task: Action Recognition, Metrics: {Top 1 Accuracy: 83.8, Top 5 Accuracy: 95.7}}
      Weights: https://github.com/nbl97/X-CLIP_Model_Zoo/releases/download/v1.0/k400_16_8.pth
      SHA256: null                                 # 64 hex digits where published; else recorded on first download
      Download: direct                             # direct | google-drive | baidu-pan (by hand, see Instructions)
      File Name: k400_16_8.pth                     # name in the cache; defaults to the last part of Weights
      Instructions: ...                            # required for google-drive and baidu-pan
      Converter: xclip                             # a registered converter (converter_names()) or null
      Converter Options: {drop_visual: true}       # keyword arguments of the converter, optional
      Converted From: {Weights: k400_16_8.pth, Code: microsoft/VideoX@1744b21}
      Note: ...                                    # shown in model_zoo.md and by tools/download.py

``Weights`` is the file as its authors publish it (the hub downloads and converts it); an entry without ``Weights``
lists a config that has no published checkpoint. In your own metafiles (``VIDEOALIGN_METAFILES``, see
:mod:`videoalign.hub.index`) ``Weights`` may also be a local file: ``file:///abs/path.pth``, ``/abs/path.pth``,
``~/path.pth``, or ``./path.pth`` / ``../path.pth`` relative to the metafile; it is used where it is (never copied),
checked against ``SHA256`` if given, else against the ``-<8 hex>`` that ends its name (as
``tools/analysis/publish_model.py`` names files), else against the hash recorded on its first use.

A ``Collections`` entry has ``Name``, ``README``, ``Paper`` (``URL``, ``Title``), ``Code`` (``URL``, ``Version``) and
``Note``.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

import yaml

from ..models.converters import converter_names
from .errors import MetafileError

DOWNLOAD_KINDS = ('direct', 'google-drive', 'baidu-pan')
NAME_PATTERN = re.compile(r'^[a-z0-9][a-z0-9_.\-]*/[A-Za-z0-9][\w.\-@]*$')
SHA256_PATTERN = re.compile(r'^[0-9a-f]{64}$')
LOCAL_PREFIXES = ('file://', '/', '~', './', '../')
COLLECTION_KEYS = ('Name', 'README', 'Paper', 'Code', 'Note')
MODEL_KEYS = ('Name', 'In Collection', 'Config', 'Alias', 'Metadata', 'Modality', 'Results', 'Training Log', 'Weights',
              'SHA256', 'Download', 'File Name', 'Instructions', 'Converter', 'Converter Options', 'Converted From',
              'Note')
METADATA_KEYS = ('Architecture', 'Pretrained', 'Frames', 'Views', 'Resolution', 'FLOPs', 'Parameters',
                 'Trainable Parameters', 'Training Data', 'Training Resources', 'Batch Size', 'Epochs')


@dataclass(frozen=True)
class Collection:
    """A method (``Collections`` entry): its name, README, paper and official code."""

    name: str
    metafile: str
    readme: Optional[str] = None
    paper: Dict[str, str] = field(default_factory=dict)
    code: Dict[str, str] = field(default_factory=dict)
    note: Optional[str] = None


@dataclass(frozen=True)
class ModelEntry:
    """One ``Models`` entry of a metafile, checked.

    Attributes:
        name (str): ``<method>/<name>``.
        collection (str): The ``In Collection`` name.
        metafile (str): The metafile it comes from.
        config (str, optional): The config, relative to the repository root.
        aliases (tuple[str]): Other names.
        metadata (dict): ``Metadata``.
        results (tuple[dict]): ``Results``.
        weights (str, optional): The address of the published file.
        sha256 (str, optional): Its official sha256.
        download (str): ``'direct'``, ``'google-drive'`` or ``'baidu-pan'``.
        file_name (str, optional): The file's name in the cache.
        instructions (str, optional): How to download it by hand.
        converter (str, optional): The converter's name, None to use the file as it is.
        converter_options (dict): Keyword arguments of the converter.
        source (dict): ``Converted From`` (``Weights``, ``Code``).
        note (str, optional): ``Note``.
        local_file (str, optional): The absolute path of a local ``Weights`` (used where it is), else None.
    """

    name: str
    collection: str
    metafile: str
    config: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    metadata: Dict[str, Any] = field(default_factory=dict)
    results: Tuple[Dict[str, Any], ...] = ()
    weights: Optional[str] = None
    sha256: Optional[str] = None
    download: str = 'direct'
    file_name: Optional[str] = None
    instructions: Optional[str] = None
    converter: Optional[str] = None
    converter_options: Dict[str, Any] = field(default_factory=dict)
    source: Dict[str, str] = field(default_factory=dict)
    note: Optional[str] = None
    local_file: Optional[str] = None

    @property
    def method(self) -> str:
        """The part of the name before ``/``."""
        return self.name.split('/', 1)[0]

    @property
    def short_name(self) -> str:
        """The part of the name after ``/``."""
        return self.name.split('/', 1)[1]

    @property
    def manual(self) -> bool:
        """Whether the file must be downloaded by hand (Google Drive, Baidu Pan)."""
        return self.download != 'direct'


def local_weights_path(weights: str, metafile: str) -> Optional[str]:
    """The absolute path of a local ``Weights`` (see the module docstring), or None for an address.

    Args:
        weights (str): The ``Weights`` value.
        metafile (str): The metafile it is in (a relative path is relative to its folder).

    Returns:
        str | None: The normalised path.
    """
    if weights.startswith('file://'):
        parsed = urlparse(weights)
        if parsed.netloc not in ('', 'localhost'):
            return None
        path = unquote(parsed.path)
    elif weights.startswith(LOCAL_PREFIXES[1:]):
        path = weights
    else:
        return None
    path = osp.expanduser(path)
    return osp.normpath(osp.join(osp.dirname(osp.abspath(metafile)), path))


def _fail(path: str, where: str, message: str) -> None:
    raise MetafileError(f'{path}: {where}: {message}')


def _check_keys(path: str, where: str, item: Any, allowed: Tuple[str, ...]) -> None:
    if not isinstance(item, dict):
        _fail(path, where, f'expected a mapping, got {type(item).__name__}')
    unknown = [key for key in item if key not in allowed]
    if unknown:
        _fail(path, where, f'unknown key(s) {unknown}; allowed: {", ".join(allowed)}')


def _optional_str(path: str, where: str, item: dict, key: str) -> Optional[str]:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        _fail(path, f'{where}: {key}', f'expected a string, got {value!r}')
    return value


def _parse_collection(path: str, index: int, item: Any) -> Collection:
    where = f'Collections[{index}]'
    _check_keys(path, where, item, COLLECTION_KEYS)
    name = _optional_str(path, where, item, 'Name')
    if not name:
        _fail(path, where, 'missing Name')
    for key in ('Paper', 'Code'):
        if not isinstance(item.get(key, {}), dict):
            _fail(path, f'{where} ({name}): {key}', f'expected a mapping, got {item[key]!r}')
    return Collection(
        name=name,
        metafile=path,
        readme=_optional_str(path, where, item, 'README'),
        paper=dict(item.get('Paper') or {}),
        code=dict(item.get('Code') or {}),
        note=_optional_str(path, where, item, 'Note'))


def _parse_results(path: str, where: str, results: Any) -> Tuple[Dict[str, Any], ...]:
    if results is None:
        return ()
    if not isinstance(results, list):
        _fail(path, f'{where}: Results', f'expected a list, got {results!r}')
    for i, result in enumerate(results):
        _check_keys(path, f'{where}: Results[{i}]', result, ('Dataset', 'Task', 'Metrics'))
        metrics = result.get('Metrics')
        if not result.get('Dataset') or not isinstance(metrics, dict) or not metrics:
            _fail(path, f'{where}: Results[{i}]', 'needs a Dataset and a non-empty Metrics mapping')
        for metric, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(path, f'{where}: Results[{i}]: Metrics: {metric}', f'expected a number, got {value!r}')
    return tuple(dict(result) for result in results)


def _parse_model(path: str,
                 index: int,
                 item: Any,
                 collections: Dict[str, Collection],
                 strict_names: bool = True) -> ModelEntry:
    where = f'Models[{index}]'
    _check_keys(path, where, item, MODEL_KEYS)
    name = _optional_str(path, where, item, 'Name')
    if not name or not NAME_PATTERN.match(name):
        _fail(path, where, f'Name {name!r} is not of the form <method>/<name> (lower-case method)')
    where = f'{where} ({name})'
    collection = item.get('In Collection')
    if collection not in collections:
        _fail(path, f'{where}: In Collection', f'{collection!r} is not a Collections Name of this file '
              f'({", ".join(collections) or "none"})')
    config = _optional_str(path, where, item, 'Config')
    if config is not None and strict_names:
        expected = f'{osp.basename(osp.dirname(config))}/{osp.splitext(osp.basename(config))[0]}'
        if name != expected:
            _fail(path, f'{where}: Name', f'an entry with a Config is named <config folder>/<config stem>: {expected}')
    aliases = item.get('Alias') or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        _fail(path, f'{where}: Alias', f'expected a list of names, got {aliases!r}')
    metadata = item.get('Metadata') or {}
    _check_keys(path, f'{where}: Metadata', metadata, METADATA_KEYS)

    weights = _optional_str(path, where, item, 'Weights')
    download = item.get('Download', 'direct')
    if download not in DOWNLOAD_KINDS:
        _fail(path, f'{where}: Download', f'{download!r} is not one of {", ".join(DOWNLOAD_KINDS)}')
    sha256 = item.get('SHA256')
    if sha256 is not None and (not isinstance(sha256, str) or not SHA256_PATTERN.match(sha256)):
        _fail(path, f'{where}: SHA256', f'expected 64 lower-case hex digits or null, got {sha256!r}')
    converter = item.get('Converter')
    if converter is not None and converter not in converter_names():
        _fail(path, f'{where}: Converter', f'{converter!r} is not one of {", ".join(converter_names())} or null')
    options = item.get('Converter Options') or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        _fail(path, f'{where}: Converter Options', f'expected a mapping of keyword arguments, got {options!r}')
    if options and converter is None:
        _fail(path, f'{where}: Converter Options', 'given without a Converter')
    file_name = _optional_str(path, where, item, 'File Name')
    instructions = _optional_str(path, where, item, 'Instructions')
    if weights is None:
        for key in ('SHA256', 'File Name', 'Instructions', 'Converter', 'Converter Options'):
            if item.get(key) is not None:
                _fail(path, f'{where}: {key}', 'given without Weights')
    local_file = None if weights is None else local_weights_path(weights, path)
    if weights is not None:
        if local_file is None and not weights.startswith(('https://', 'http://')):
            _fail(
                path, f'{where}: Weights',
                f'expected an http(s) address, or a local file (file:///abs/path, /abs/path, '
                f'~/path, or ./path relative to the metafile), got {weights!r}')
        if local_file is not None and download != 'direct':
            _fail(path, f'{where}: Download', f'{download} is for a file on the web, not a local file ({weights})')
        if download != 'direct' and not (file_name and instructions):
            _fail(path, where, f'Download: {download} needs File Name and Instructions (the file is downloaded by '
                  'hand)')
        file_name = file_name or osp.basename(local_file or urlparse(weights).path)
        if not file_name or file_name != osp.basename(file_name) or file_name.startswith('.'):
            _fail(path, f'{where}: File Name', f'{file_name!r} is not a plain file name; set File Name')
    source = item.get('Converted From') or {}
    _check_keys(path, f'{where}: Converted From', source, ('Weights', 'Code'))
    note = _optional_str(path, where, item, 'Note')
    return ModelEntry(
        name=name,
        collection=collection,
        metafile=path,
        config=config,
        aliases=tuple(aliases),
        metadata=dict(metadata),
        results=_parse_results(path, where, item.get('Results')),
        weights=weights,
        sha256=sha256,
        download=download,
        file_name=file_name if weights else None,
        instructions=instructions,
        converter=converter,
        converter_options=dict(options),
        source=dict(source),
        note=note,
        local_file=local_file)


def load_metafile(path: str, strict_names: bool = True) -> Tuple[List[Collection], List[ModelEntry]]:
    """Read and check a metafile.

    Args:
        path (str): The ``metafile.yml``.
        strict_names (bool): Require an entry with a ``Config`` to be named ``<config folder>/<config stem>``, as in
            the package's own metafiles; your own metafiles name their checkpoints as they like. Defaults to True.

    Returns:
        tuple[list[Collection], list[ModelEntry]]: Its collections and models, in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        MetafileError: Naming the file and the key when something is malformed.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'metafile {path} does not exist')
    with open(path, encoding='utf-8') as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise MetafileError(f'{path}: not valid YAML: {err}') from None
    _check_keys(path, 'top level', data, ('Collections', 'Models'))
    raw_collections, raw_models = data.get('Collections') or [], data.get('Models') or []
    for key, value in (('Collections', raw_collections), ('Models', raw_models)):
        if not isinstance(value, list):
            _fail(path, key, f'expected a list, got {type(value).__name__}')
    collections = {}
    for i, item in enumerate(raw_collections):
        collection = _parse_collection(path, i, item)
        if collection.name in collections:
            _fail(path, f'Collections[{i}]', f'duplicate Name {collection.name!r}')
        collections[collection.name] = collection
    models, names = [], set()
    for i, item in enumerate(raw_models):
        model = _parse_model(path, i, item, collections, strict_names)
        for name in (model.name, ) + model.aliases:
            if name in names:
                _fail(path, f'Models[{i}]', f'duplicate name {name!r}')
            names.add(name)
        models.append(model)
    return list(collections.values()), models
