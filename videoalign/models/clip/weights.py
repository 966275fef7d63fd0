"""Loading base CLIP weights, from OpenAI's TorchScript archives, open_clip checkpoints, URLs or open_clip names.

Every source gives a state dict in OpenAI's key layout (``visual.conv1.weight``, ``visual.transformer.resblocks.0.*``,
``token_embedding.weight``, ``transformer.resblocks.0.*``, ``ln_final.*``, ``text_projection``, ``logit_scale``).
:class:`CLIPPretrainedInit` (``init_cfg=dict(type='CLIPPretrained', checkpoint=..., prefix='visual.')``) loads the
part under a prefix into a module.
"""
import os.path as osp
import re
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.model.weight_init import update_init_info
from mmengine.runner import CheckpointLoader

from videoalign.registry import WEIGHT_INITIALIZERS
from ..converters.openai_clip import convert_openai_clip
from ..converters.torchscript import is_torchscript_archive, load_torchscript_state_dict

__all__ = ['CLIPPretrainedInit', 'load_clip_state_dict', 'load_clip_weights']

# ``<pretrained tag>:<open_clip model name>``, e.g. ``openai:ViT-B-16``.
_OPEN_CLIP_NAME = re.compile(r'^(?P<tag>[\w.\-]+):(?P<name>[\w.\-/@]+)$')

ClipSource = Union[str, Tuple[str, str]]


def _to_openai_layout(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """A loaded checkpoint as a flat OpenAI-layout state dict of weights (a visual or text tower alone is fine)."""
    return convert_openai_clip(checkpoint, required=())


def _load_open_clip(name: str, tag: Optional[str], map_location) -> Dict[str, torch.Tensor]:
    """Build an open_clip model with its pretrained weights (needs the hub) and return its state dict."""
    import open_clip
    try:
        model = open_clip.create_model(name, pretrained=tag, device='cpu')
    except Exception as err:  # noqa: BLE001  (hub, network and file errors alike)
        raise RuntimeError(
            f'could not build open_clip model {name!r} with pretrained weights {tag!r}: {type(err).__name__}: {err}. '
            f'This needs the network (or open_clip\'s cache); otherwise download the weights and pass the local '
            f'file path as the checkpoint.') from err
    state_dict = model.state_dict()
    if map_location is not None:
        state_dict = {k: v.to(map_location) for k, v in state_dict.items()}
    return _to_openai_layout(state_dict)


def load_clip_state_dict(source: ClipSource,
                         map_location: Optional[Union[str, torch.device]] = 'cpu') -> Dict[str, torch.Tensor]:
    """Load base CLIP weights as a state dict in OpenAI's key layout.

    Args:
        source (str | tuple[str, str]): One of:

            - a local OpenAI CLIP TorchScript archive (e.g. ``ViT-B-16.pt``);
            - a local open_clip checkpoint (``{'state_dict': ...}``, ``module.`` prefixes stripped) or a plain
              state dict (``torch.save``);
            - a model-zoo name ``videoalign://clip/<arch>`` (see ``model_zoo.md``): downloaded, verified and
              converted to a plain state dict by the model hub;
            - an ``http(s)://`` URL: downloaded once into the torch hub cache; TorchScript archives are refused
              from URLs;
            - ``'<tag>:<name>'``, an open_clip pretrained tag and model name such as ``'openai:ViT-B-16'``, a
              ``(name, tag)`` tuple such as ``('ViT-B-16', 'openai')``, or ``'hf-hub:<repo>'``: built with
              ``open_clip.create_model`` (needs the network or open_clip's cache).

            Files, names and URLs are loaded through mmengine's ``CheckpointLoader``, whose schemes videoalign
            registers: nothing pickled runs (:mod:`videoalign.compat.checkpoint`).
        map_location (str | torch.device, optional): Where to put the tensors. Defaults to ``'cpu'``.

    Returns:
        dict[str, torch.Tensor]: The weights, e.g. ``visual.conv1.weight`` and ``token_embedding.weight``. Dtypes are
        kept (OpenAI's archives are partly float16); ``load_state_dict`` casts on copy.

    Raises:
        FileNotFoundError: If a path does not exist and is no open_clip name.
        ValueError: If a URL serves a TorchScript archive.
        KeyError: If the checkpoint holds no weights.
        UnsafeCheckpointError: If a file pickles objects outside the allow-list.
        RuntimeError: If an open_clip model cannot be built with its weights.
    """
    if isinstance(source, Sequence) and not isinstance(source, str):
        if len(source) != 2:
            raise ValueError(f'an open_clip source is a (name, pretrained tag) pair, got {source!r}')
        return _load_open_clip(source[0], source[1], map_location)
    path = osp.expanduser(source)
    if '://' not in source and osp.isfile(path) and is_torchscript_archive(path):
        # OpenAI's files: the tensors are read as data, no TorchScript is loaded
        state_dict = load_torchscript_state_dict(path)
        return _to_openai_layout({k: v.to(map_location) if map_location else v for k, v in state_dict.items()})
    if '://' in source or osp.isfile(path):  # local files, URLs and videoalign:// names, through mmengine's loader
        return _to_openai_layout(CheckpointLoader.load_checkpoint(source, map_location=map_location))
    if source.startswith('hf-hub:'):
        return _load_open_clip(source, None, map_location)
    match = _OPEN_CLIP_NAME.match(source)
    if match is not None:
        return _load_open_clip(match.group('name'), match.group('tag'), map_location)
    raise FileNotFoundError(f'CLIP checkpoint {source!r} is neither a file, a URL nor an open_clip '
                            f'"<pretrained tag>:<model name>" such as "openai:ViT-B-16"')


def load_clip_weights(module: nn.Module,
                      checkpoint: ClipSource,
                      prefix: str = 'visual.',
                      exclude: Sequence[str] = (),
                      map_location: Optional[Union[str, torch.device]] = 'cpu'):
    """Load the CLIP weights under ``prefix`` into ``module`` (``strict=False``) and log what did not match.

    Args:
        module (nn.Module): The module, e.g. a :class:`CLIPViT`. A model wrapper is unwrapped.
        checkpoint (str | tuple[str, str]): A source for :func:`load_clip_state_dict`.
        prefix (str): Only keys starting with it are loaded, with it removed. ``''`` loads everything. Defaults to
            ``'visual.'``.
        exclude (Sequence[str]): Keys (after removing ``prefix``) starting with one of these are not loaded, e.g.
            ``('visual.', 'logit_scale')`` for the text tower with ``prefix=''``. Defaults to ().
        map_location (str | torch.device, optional): As in :func:`load_clip_state_dict`. Defaults to ``'cpu'``.

    Returns:
        torch.nn.modules.module._IncompatibleKeys: The missing and unexpected keys.

    Raises:
        KeyError: If no key of the checkpoint starts with ``prefix``.
    """
    if is_model_wrapper(module):
        module = module.module
    state_dict = load_clip_state_dict(checkpoint, map_location=map_location)
    if prefix:
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f'no key of the CLIP checkpoint {checkpoint!r} starts with {prefix!r}')
    if exclude:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith(tuple(exclude))}
    print_log(f'load CLIP weights {prefix!r} from {checkpoint!r} into {type(module).__name__}', logger='current')
    incompatible = module.load_state_dict(state_dict, strict=False)
    if incompatible.missing_keys:
        print_log(
            f'missing keys (not in the CLIP checkpoint, left as initialised): {incompatible.missing_keys}',
            logger='current')
    if incompatible.unexpected_keys:
        print_log(
            f'unexpected keys (in the CLIP checkpoint, not in the module): {incompatible.unexpected_keys}',
            logger='current')
    return incompatible


@WEIGHT_INITIALIZERS.register_module(name='CLIPPretrained')
class CLIPPretrainedInit:
    """Initialise a module with base CLIP weights: ``init_cfg=dict(type='CLIPPretrained', checkpoint=...)``.

    Follows the interface of mmengine's ``PretrainedInit`` (``__call__(module)``, ``_get_init_info``). Loading is
    ``strict=False``: missing keys (new modules such as X-CLIP's ``message_*``) and unexpected keys (e.g. ``proj``
    for a backbone without it) are logged. A positional embedding of another grid size is resized by the module's
    load-state-dict pre-hook (:class:`CLIPViT` has one).

    Args:
        checkpoint (str | tuple[str, str]): A source for :func:`load_clip_state_dict`: a local file, a
            model-zoo name (``'videoalign://clip/vit-b16'``), a URL or an open_clip ``'<tag>:<name>'``.
        prefix (str): The part of the checkpoint to load, removed from the keys. Defaults to ``'visual.'``.
        exclude (Sequence[str]): Keys (after removing ``prefix``) not to load, by their start. Defaults to ().
        map_location (str): Where to load the tensors. Defaults to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: ClipSource,
                 prefix: str = 'visual.',
                 exclude: Sequence[str] = (),
                 map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.exclude = tuple(exclude)
        self.map_location = map_location
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        """Load the weights into ``module``."""
        load_clip_weights(
            module, self.checkpoint, prefix=self.prefix, exclude=self.exclude, map_location=self.map_location)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        """The line recorded for each parameter in mmengine's initialisation log."""
        return f'{self.__class__.__name__}: load {self.prefix!r} from {self.checkpoint}'
