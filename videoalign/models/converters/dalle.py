"""The DALL-E dVAE encoder (``https://cdn.openai.com/dall-e/encoder.pkl``) to a plain state dict.

OpenAI publishes the encoder as a pickled ``dall_e.encoder.Encoder`` module (``torch.save(module)``), which needs the
``dall_e`` package and full unpickling. Read with :func:`~videoalign.models.converters.load_official_checkpoint`, each
module is an inert placeholder keeping its attribute dict (``_parameters``, ``_buffers``, ``_modules``);
:func:`convert_dalle_encoder` walks that tree and names the tensors as ``Encoder.state_dict()`` does:
``blocks.input.w``, ``blocks.group_1.block_1.res_path.conv_1.w``, ..., ``blocks.output.conv.b``. mmpretrain's
``DALLEEncoder`` (registered as ``'DALL-E'``) uses the same names under its own ``encoder.`` attribute.
"""
import warnings
from collections import OrderedDict
from typing import Any, Dict

import torch

from .io import Placeholder, load_official_checkpoint, official_state_dict
from .registry import register_converter

__all__ = ['convert_dalle_encoder']


def _module_state(obj: Placeholder, prefix: str, out: Dict[str, torch.Tensor]) -> None:
    state = obj.state if isinstance(obj.state, dict) else {}
    non_persistent = state.get('_non_persistent_buffers_set') or set()
    for group in ('_parameters', '_buffers'):
        for name, value in (state.get(group) or {}).items():
            if torch.is_tensor(value) and not (group == '_buffers' and name in non_persistent):
                out[prefix + name] = value.detach() if value.requires_grad else value
    for name, child in (state.get('_modules') or {}).items():
        if isinstance(child, Placeholder):
            _module_state(child, f'{prefix}{name}.', out)


def read_pickled_module(path: str) -> Any:
    """A pickled module (``torch.save(module)``) read inertly, without torch's warnings that it cannot compare the
    pickled classes' source code with the (absent) classes."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message="Couldn't retrieve source code")
        return load_official_checkpoint(path)


@register_converter('dvae', read=read_pickled_module)
def convert_dalle_encoder(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The state dict of a pickled dVAE encoder module (read inertly), or a state dict as it is.

    Args:
        checkpoint (Any): What :func:`load_official_checkpoint` returns for ``encoder.pkl`` (a placeholder of the
            module), or a mapping of tensors (``{'state_dict': ...}`` is unwrapped).

    Returns:
        dict[str, torch.Tensor]: The encoder's weights, e.g. ``blocks.input.w`` of shape (256, 3, 7, 7).

    Raises:
        ValueError: If no tensor is found.
    """
    out = OrderedDict()
    if isinstance(checkpoint, Placeholder):
        _module_state(checkpoint, '', out)
    elif isinstance(checkpoint, dict):
        out.update(
            (k, v) for k, v in official_state_dict(checkpoint, ('state_dict', ), 'dVAE').items() if torch.is_tensor(v))
    if not out:
        raise ValueError(f'no encoder weights found in {type(checkpoint).__name__} {checkpoint!r:.80}: expected the '
                         f'pickled dall_e Encoder module or a state dict')
    return out
