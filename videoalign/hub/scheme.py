"""``videoalign://<method>/<name>`` as a checkpoint scheme of mmengine's ``CheckpointLoader``.

Registered when ``videoalign`` is imported, so that any place mmengine loads a checkpoint takes a model-zoo name::

    load_from = 'videoalign://xclip/vit-b16-8f_k400'
    init_cfg = dict(type='Pretrained', checkpoint='videoalign://aim/vit-b16_k400', prefix='backbone.')

The file is fetched, verified and converted by :func:`~videoalign.hub.api.get_checkpoint` and loaded with
``weights_only=True``.
"""
from typing import Any, Optional

from mmengine.runner import CheckpointLoader

from .api import load_checkpoint
from .index import SCHEME


def load_from_videoalign(filename: str, map_location: Optional[Any] = None) -> dict:
    """The loader of the ``videoalign://`` scheme.

    Args:
        filename (str): ``videoalign://<method>/<name>``.
        map_location (Any, optional): As in :func:`torch.load`. Defaults to None (``'cpu'``).

    Returns:
        dict: The checkpoint.
    """
    return load_checkpoint(filename, map_location=map_location or 'cpu')


def register_hub_scheme() -> None:
    """Register :func:`load_from_videoalign` for the ``videoalign://`` prefix (idempotent)."""
    CheckpointLoader.register_scheme(prefixes=SCHEME, loader=load_from_videoalign, force=True)
