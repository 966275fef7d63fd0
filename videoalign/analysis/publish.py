"""Publishing a trained checkpoint (``tools/analysis/publish_model.py`` is the command line).

A Runner checkpoint holds the weights (``state_dict``), ``meta`` (epoch, config text, seed, ``dataset_meta``...) and the
training state (``optimizer``, ``param_schedulers``, ``message_hub`` with its history). The published file keeps the
weights, as tensors only, and a minimal ``meta`` of plain values, so that it loads with
``torch.load(path, weights_only=True)``; its name ends with the first 8 hex digits of its sha256 (OpenMMLab's rule),
and its metafile entry (:mod:`videoalign.hub.metafile`'s format) lists the full sha256.
"""
import hashlib
import io
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import torch
import yaml

from ..utils.fileio import atomic_write

#: The ``meta`` entries kept, when their values are plain (str, numbers, lists and dicts of them).
KEPT_META = ('dataset_meta', 'epoch', 'iter')


def _plain(value: Any) -> Tuple[bool, Any]:
    """``(True, value)`` as plain Python data (tuples as lists) if it is made of str, numbers, bools and None only."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True, value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _plain(v) for k, v in value.items()}
        return all(ok for ok, _ in items.values()), {k: v for k, (_, v) in items.items()}
    if hasattr(value, 'item') and getattr(value, 'ndim', None) == 0:  # a NumPy or torch scalar
        return _plain(value.item())
    return False, None


def strip_checkpoint(checkpoint: Any, source: str = '<checkpoint>') -> Tuple[Dict[str, Any], List[str]]:
    """The publishable part of a checkpoint: ``state_dict`` (tensors only) and the plain entries of ``meta``.

    Args:
        checkpoint (Any): A loaded checkpoint: a Runner checkpoint (a dict with ``state_dict``) or a plain state dict.
        source (str): Its file, for the messages. Defaults to ``'<checkpoint>'``.

    Returns:
        tuple[dict, list[str]]: ``{'state_dict': ..., 'meta': ...}`` and what was left out, one line each.

    Raises:
        ValueError: If there is no state dict or it holds no tensor.
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{source}: expected a checkpoint dict, got {type(checkpoint).__name__}')
    dropped = []
    if 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
        dropped += [f'{key} (training state)' for key in checkpoint if key not in ('state_dict', 'meta')]
    elif checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        state_dict = checkpoint  # already a plain state dict
    else:
        raise ValueError(f'{source}: no state_dict; its keys: {", ".join(map(str, checkpoint)) or "none"}')
    if not isinstance(state_dict, dict):
        raise ValueError(f'{source}: state_dict is a {type(state_dict).__name__}, expected a dict of tensors')
    tensors = {}
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.untyped_storage().nbytes() != value.numel() * value.element_size():
                value = value.clone()  # a view: save its own data, not the whole storage it views
            tensors[key] = value
        else:
            dropped.append(f'state_dict.{key} (a {type(value).__name__}, not a tensor)')
    if not tensors:
        raise ValueError(f'{source}: the state_dict holds no tensor')
    meta = {}
    source_meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    for key, value in (source_meta if isinstance(source_meta, dict) else {}).items():
        ok, plain = _plain(value)
        if key in KEPT_META and ok:
            meta[key] = plain
        else:
            dropped.append(f'meta.{key}' + ('' if key in KEPT_META or ok else ' (not plain data)'))
    return {'state_dict': tensors, 'meta': meta}, dropped


def save_published(published: Dict[str, Any], out_file: str) -> Tuple[str, str]:
    """Save a stripped checkpoint as ``<out_file stem>-<first 8 hex of its sha256><ext>``.

    Args:
        published (dict): The output of :func:`strip_checkpoint`.
        out_file (str): The wanted name (``.pth`` or ``.pt``); the hash is added before the extension.

    Returns:
        tuple[str, str]: The final path and the full sha256.

    Raises:
        ValueError: If ``out_file`` does not end with ``.pth`` or ``.pt``.
    """
    stem, ext = osp.splitext(out_file)
    if ext not in ('.pth', '.pt'):
        raise ValueError(f'{out_file}: the published file must end with .pth (or .pt)')
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    final = f'{stem}-{sha256[:8]}{ext}'
    with atomic_write(final) as f:
        f.write(data)
    return final, sha256


def format_parameters(state_dict: Dict[str, torch.Tensor]) -> str:
    """The number of parameters as the metafiles write them (``2.08M``), batch-norm statistics left out."""
    buffers = ('running_mean', 'running_var', 'num_batches_tracked')
    count = sum(v.numel() for k, v in state_dict.items() if not k.endswith(buffers))
    return f'{count / 1e6:.2f}M'


def _scalar(value: Any) -> str:
    """A YAML scalar as written in a block mapping: plain when YAML reads it back unchanged, else quoted."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 16, allow_unicode=True)
    return text.strip().removesuffix('...').strip()


def metafile_lines(name: str,
                   collection: str,
                   weights_url: str,
                   sha256: str,
                   config: Optional[str] = None,
                   metadata: Optional[Dict[str, Any]] = None) -> str:
    """A user metafile (one ``Collections`` and one ``Models`` entry) in the layout of ``configs/*/metafile.yml``.

    Args:
        name (str): ``<method>/<name>``.
        collection (str): The ``In Collection`` name (a ``Collections`` entry of that name is written too).
        weights_url (str): The http(s) address of the published file.
        sha256 (str): Its sha256.
        config (str, optional): The config, relative to the repository root. Defaults to None.
        metadata (dict, optional): ``Metadata`` entries (``Parameters``, ``Epochs``...). Defaults to None.

    Returns:
        str: The YAML text.
    """
    lines = [
        'Collections:', f'  - Name: {_scalar(collection)}', '', 'Models:', '', f'  - Name: {_scalar(name)}',
        f'    In Collection: {_scalar(collection)}'
    ]
    if config:
        lines.append(f'    Config: {_scalar(config)}')
    if metadata:
        lines.append('    Metadata:')
        lines += [f'      {key}: {_scalar(value)}' for key, value in metadata.items()]
    lines += [f'    Weights: {_scalar(weights_url)}', f'    SHA256: {sha256}']
    return '\n'.join(lines) + '\n'
