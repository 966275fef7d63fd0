"""The converters the metafiles name, and writing a converted file into the cache.

Every converter reads a published file without running pickled code and returns a state dict in videoalign's layout:

============================  ===================================================================================
``Converter``                 what it does
============================  ===================================================================================
``xclip``, ``aim``,           :func:`~videoalign.models.converters.load_official_checkpoint`, then the method's
``dualpath``,                 ``convert_<method>`` (``Converter Options`` are passed to it, e.g.
``efficient_prompt``          ``drop_visual: true`` for Efficient-Prompt's cached-feature config)
``clip``                      OpenAI's TorchScript archive read as data (no TorchScript is loaded or run), or a state
                              dict, to OpenAI's key layout (what ``CLIPPretrained`` loads)
``dvae``                      the pickled DALL-E dVAE encoder module (``encoder.pkl``) to its state dict
============================  ===================================================================================

The converters are imported when first used, so that reading metafiles does not import the models.
"""
import inspect
import warnings
from typing import Any, Callable, Dict

import torch

from ..utils.fileio import atomic_write
from .errors import HubError


def _method_converter(function: str) -> Callable[..., Dict[str, torch.Tensor]]:
    """A converter reading an official training checkpoint and applying ``videoalign.models.converters.<function>``."""

    def convert(path: str, **options: Any) -> Dict[str, torch.Tensor]:
        from videoalign.models import converters
        fn = getattr(converters, function)
        try:
            inspect.signature(fn).bind(None, **options)
        except TypeError as err:
            raise HubError(f'Converter Options {options} do not fit {function}: {err}') from None
        return fn(converters.load_official_checkpoint(path), **options)

    convert.__doc__ = f'``{function}(load_official_checkpoint(path), **options)``.'
    return convert


def _convert_clip(path: str) -> Dict[str, torch.Tensor]:
    """OpenAI CLIP (a TorchScript archive, or a ``torch.save`` state dict) to OpenAI's key layout."""
    from videoalign.models.converters import convert_openai_clip, load_official_checkpoint, load_torchscript_state_dict
    from videoalign.models.utils.clip_checkpoint import is_torchscript_archive
    if is_torchscript_archive(path):
        return convert_openai_clip(load_torchscript_state_dict(path))
    return convert_openai_clip(load_official_checkpoint(path))


def _convert_dvae(path: str) -> Dict[str, torch.Tensor]:
    """The DALL-E dVAE encoder (a pickled module) to its state dict."""
    from videoalign.models.converters import convert_dalle_encoder, load_official_checkpoint
    with warnings.catch_warnings():  # torch's legacy format compares the pickled modules' source with the classes'
        warnings.filterwarnings('ignore', message="Couldn't retrieve source code")
        return convert_dalle_encoder(load_official_checkpoint(path))


CONVERTERS: Dict[str, Callable[..., Dict[str, torch.Tensor]]] = {
    'xclip': _method_converter('convert_xclip'),
    'aim': _method_converter('convert_aim'),
    'dualpath': _method_converter('convert_dualpath'),
    'efficient_prompt': _method_converter('convert_efficient_prompt'),
    'clip': _convert_clip,
    'dvae': _convert_dvae,
}


def convert_file(converter: str, src: str, dst: str, options: Dict[str, Any], meta: Dict[str, Any]) -> None:
    """Convert ``src`` with ``converter`` and write ``{'state_dict', 'meta'}`` to ``dst`` atomically.

    The file is written to a temporary name in ``dst``'s folder, flushed (``fsync``) and renamed, so ``dst`` is
    either absent or complete.

    Args:
        converter (str): A key of :data:`CONVERTERS`.
        src (str): The published file.
        dst (str): Where the converted file goes.
        options (dict): Keyword arguments of the converter.
        meta (dict): Plain values stored under ``'meta'`` (where the file came from).
    """
    if converter not in CONVERTERS:
        raise HubError(f'unknown converter {converter!r}; known: {", ".join(CONVERTERS)}')
    try:
        inspect.signature(CONVERTERS[converter]).bind(src, **options)
    except TypeError as err:
        raise HubError(f'Converter Options {options} do not fit the {converter!r} converter: {err}') from None
    state_dict = CONVERTERS[converter](src, **options)
    with atomic_write(dst) as f:
        torch.save({'state_dict': state_dict, 'meta': meta}, f)
