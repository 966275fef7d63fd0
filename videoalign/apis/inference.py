"""Building a model for inference and scoring a video, with a closed or an open (free-text) label set."""
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from ..registry import MODELS


def init_model(config: Union[str, Path, Config], checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu', cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a model from a config and load a checkpoint (path, URL or model-zoo name).

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint to load; None keeps the initial weights. Defaults to None.
        device (str | torch.device): Device of the returned model. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides, as ``--cfg-options``. Defaults to None.
        strict (bool): Require the checkpoint's keys to fit the model exactly; a checkpoint of another model then
            fails instead of leaving part of the model at its initial weights. Defaults to True.

    Returns:
        nn.Module: The model in eval mode, with its config in ``model.cfg``.

    Raises:
        RuntimeError: With ``strict``, if the checkpoint has missing or unexpected keys (they are listed).
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config} does not exist')
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file name or a Config, got {type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'videoalign'))
    model = MODELS.build(config.model)
    if checkpoint is not None:
        try:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=strict)
        except RuntimeError as err:
            if not (strict and 'state_dict' in str(err)):
                raise
            raise RuntimeError(f'{checkpoint} does not fit the model of {config.filename or "the config"}: {err}\n'
                               'If that is expected, load it with strict=False (demo/demo.py: --non-strict).') from None
    model.cfg = config
    return model.to(device).eval()


def _class_names(model: nn.Module) -> Optional[List[str]]:
    head = getattr(model, 'cls_head', None)
    names = getattr(head, 'class_names', None)
    return list(names) if names is not None else None


def inference_video(model: nn.Module, video: Union[str, dict], labels: Optional[Sequence[str]] = None,
                    topk: int = 5, test_pipeline: Optional[Compose] = None) -> List[Tuple[str, float]]:
    """Score a video against the model's classes, or against free-text ``labels``.

    With ``labels`` and a text-prompt head (one that scores class-name text), the head's class list is replaced by
    ``labels`` and the class text embeddings are recomputed, so any set of phrases can be scored. A head with a fixed
    set of classes only takes ``labels`` as the names of its classes, in order.

    Args:
        model (nn.Module): A model from :func:`init_model`.
        video (str | dict): A video file, or the input dict of the test pipeline.
        labels (Sequence[str], optional): Free-text labels to score, or for a fixed head the names of its classes.
            Defaults to None (the model's own classes).
        topk (int): How many of the best labels to return. Defaults to 5.
        test_pipeline (Compose, optional): Defaults to the config's ``test_pipeline``.

    Returns:
        list[tuple[str, float]]: ``(label, score)`` pairs, best first.
    """
    head = getattr(model, 'cls_head', None)
    open_vocabulary = hasattr(head, 'set_class_names')
    if labels is not None and open_vocabulary:
        head.set_class_names(list(labels))
    names = _class_names(model) if labels is None or open_vocabulary else list(labels)
    if test_pipeline is None:
        init_default_scope(model.cfg.get('default_scope', 'videoalign'))
        test_pipeline = Compose(model.cfg.test_pipeline)
    if isinstance(video, str):
        if not osp.isfile(video):
            raise FileNotFoundError(f'video {video} does not exist')
        video = dict(filename=video, label=-1, start_index=0, modality='RGB')
    data = pseudo_collate([test_pipeline(video)])
    with torch.no_grad():
        scores = model.test_step(data)[0].pred_score.float().cpu()
    if names is None:
        names = [str(i) for i in range(scores.numel())]
    elif len(names) != scores.numel():
        raise ValueError(f'{type(head).__name__} scores a fixed set of {scores.numel()} classes but got {len(names)} '
                         'labels; free-text labels need a text-prompt head (e.g. TextPromptHead)')
    values, indices = scores.topk(min(topk, scores.numel()))
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]
