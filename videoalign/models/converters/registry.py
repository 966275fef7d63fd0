"""Converters by name: each method's converter registers itself, and the hub and ``tools/convert/convert.py`` find it.

A converter is a function ``convert(checkpoint, **options) -> state_dict`` on an official checkpoint as
:func:`~videoalign.models.converters.io.load_official_checkpoint` reads it (or as its own ``read`` function does).
Decorated with :func:`register_converter`, it is registered in :data:`videoalign.registry.CONVERTERS` as a function of
the file: ``convert_file(path, **options) -> (state_dict, meta)``. Adding a converter is one file in this package
(imported by its ``__init__``) plus the ``Converter: <name>`` lines of the metafile entries it converts.
"""
import functools
import inspect
import os.path as osp
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch

from ...registry import CONVERTERS
from ...utils.fileio import atomic_write
from .io import load_official_checkpoint

StateDict = Dict[str, torch.Tensor]


def register_converter(name: str,
                       read: Callable[[str], Any] = load_official_checkpoint,
                       describe: Optional[Callable[[Any], Dict[str, Any]]] = None) -> Callable:
    """Register ``convert(checkpoint, **options)`` as the converter ``name`` of official files.

    Args:
        name (str): The converter's name, e.g. ``'xclip'``.
        read (Callable[[str], Any]): Reads the official file without running its pickled code. Defaults to
            :func:`~videoalign.models.converters.io.load_official_checkpoint`.
        describe (Callable[[Any], dict], optional): Plain values taken from the official checkpoint into the
            converted file's ``meta`` (e.g. the official training arguments). Defaults to None.

    Returns:
        Callable: The decorator; it returns ``convert`` unchanged.
    """

    def decorator(convert: Callable[..., StateDict]) -> Callable[..., StateDict]:

        @functools.wraps(convert)
        def convert_file(path: str, **options: Any) -> Tuple[StateDict, Dict[str, Any]]:
            checkpoint = read(path)
            return convert(checkpoint, **options), (describe(checkpoint) if describe else {})

        CONVERTERS.register_module(name=name, module=convert_file)
        return convert

    return decorator


def converter_names() -> List[str]:
    """The names of the registered converters, sorted.

    Returns:
        list[str]: E.g. ``['aim', 'clip', 'dualpath', 'dvae', 'efficient_prompt', 'xclip']``.
    """
    CONVERTERS.import_from_location()
    return sorted(CONVERTERS.module_dict)


def get_converter(name: str, options: Optional[Mapping[str, Any]] = None) -> Callable[..., Tuple[StateDict, dict]]:
    """The converter ``name``, after checking that ``options`` are keyword arguments it takes.

    Args:
        name (str): A registered converter.
        options (Mapping, optional): Its keyword arguments. Defaults to None.

    Returns:
        Callable: ``convert_file(path, **options) -> (state_dict, meta)``.

    Raises:
        KeyError: If no converter has that name (the message lists them).
        TypeError: If ``options`` do not fit the converter's signature.
    """
    convert_file = CONVERTERS.get(name)
    if convert_file is None:
        raise KeyError(f'no converter named {name!r}; known: {", ".join(converter_names())}')
    try:
        inspect.signature(convert_file).bind(None, **dict(options or {}))
    except TypeError as err:
        raise TypeError(f'options {dict(options or {})} do not fit the {name!r} converter: {err}') from None
    return convert_file


def convert_checkpoint(converter: str,
                       src: str,
                       dst: str,
                       options: Optional[Mapping[str, Any]] = None,
                       **meta: Any) -> StateDict:
    """Convert the official file ``src`` with ``converter`` and write ``{'state_dict', 'meta'}`` to ``dst``.

    The file is written atomically (a temporary file renamed once complete).

    Args:
        converter (str): The name of a registered converter.
        src (str): The official file.
        dst (str): Where the converted checkpoint goes.
        options (Mapping, optional): Keyword arguments of the converter. Defaults to None.
        **meta: ``meta`` entries besides (or instead of) ``converted_from`` (the file's name), ``converter``,
            ``converter_options`` and what the converter describes.

    Returns:
        dict[str, torch.Tensor]: The converted state dict.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
    """
    if not osp.isfile(src):
        raise FileNotFoundError(f'official checkpoint {src} does not exist')
    options = dict(options or {})
    state_dict, described = get_converter(converter, options)(src, **options)
    meta = dict(
        dict(converted_from=osp.basename(src), converter=converter, converter_options=options, **described), **meta)
    with atomic_write(dst) as f:
        torch.save({'state_dict': state_dict, 'meta': meta}, f)
    return state_dict
