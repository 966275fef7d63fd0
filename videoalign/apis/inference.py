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

from ..datasets.class_names import resolve_class_names
from ..engine.runner_builder import resolve_config_path
from ..hub import get_config_path
from ..registry import MODELS
from ..utils.precision import autocast


def _load_config(config: Union[str, Path, Config]) -> Config:
    """A Config object, a config file (see :func:`~videoalign.engine.runner_builder.resolve_config_path`), or the
    name of a model-zoo entry (its config from the installed package)."""
    if isinstance(config, Config):
        return config
    if not isinstance(config, (str, Path)):
        raise TypeError(f'config must be a file name, a model-zoo name or a Config, got {type(config).__name__}')
    path = str(config)
    try:
        path = resolve_config_path(path)
    except FileNotFoundError:
        try:
            path = get_config_path(path)
        except KeyError:
            raise FileNotFoundError(f'config {config} is neither a file nor the name of a model-zoo entry '
                                    f'(python tools/download.py --list)') from None
    return Config.fromfile(path)


def _config_classes(config: Config) -> Optional[List[str]]:
    """The class names of the config's test (else val) dataset, where it names a list or a file that is here."""
    for split in ('test', 'val'):
        names = config.get(f'{split}_dataloader', {}).get('dataset', {}).get('class_names')
        if isinstance(names, (list, tuple)) or (isinstance(names, str) and osp.isfile(names)):
            return resolve_class_names(names)
    return None


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a model from a config and load a checkpoint (path, URL or model-zoo name).

    Nothing of the dataset is needed: the class names are those saved with the checkpoint
    (``meta['dataset_meta']['classes']``, written by every training run), else those of the config's test dataset
    where its label map is at hand, else none (a text-prompt model then scores the labels it is given).

    Args:
        config (str | Path | Config): A config file or object, or a model-zoo name such as
            ``'xclip/vit-b16-8f_k400'`` (its config is found in the installed package).
        checkpoint (str, optional): Checkpoint to load; None keeps the initial weights. Defaults to None.
        device (str | torch.device): Device of the returned model. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides, as ``--cfg-options``. Defaults to None.
        strict (bool): Require the checkpoint's keys to fit the model exactly; a checkpoint of another model then
            fails instead of leaving part of the model at its initial weights. Defaults to True.

    Returns:
        nn.Module: The model in eval mode, with its config in ``model.cfg`` and the checkpoint's dataset meta (the
        class names) in ``model.dataset_meta``.

    Raises:
        RuntimeError: With ``strict``, if the checkpoint has missing or unexpected keys (they are listed).
    """
    config = _load_config(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'videoalign'))
    model = MODELS.build(config.model)
    dataset_meta = {}
    if checkpoint is not None:
        try:
            loaded = load_checkpoint(model, checkpoint, map_location='cpu', strict=strict)
        except RuntimeError as err:
            if not (strict and 'state_dict' in str(err)):
                raise
            raise RuntimeError(f'{checkpoint} does not fit the model of {config.filename or "the config"}: {err}\n'
                               'If that is expected, load it with strict=False (demo/demo.py: --non-strict).') from None
        dataset_meta = dict((loaded.get('meta') or {}).get('dataset_meta') or {})
    if not dataset_meta.get('classes'):
        classes = _config_classes(config)
        if classes:
            dataset_meta['classes'] = tuple(classes)
    head = getattr(model, 'cls_head', None)
    if dataset_meta.get('classes') and hasattr(head, 'set_class_names'):
        head.set_class_names(list(dataset_meta['classes']))
    model.dataset_meta = dataset_meta
    model.cfg = config
    return model.to(device).eval()


def _class_names(model: nn.Module) -> Optional[List[str]]:
    """The names of the classes a model scores: its head's, else its dataset meta's."""
    names = getattr(getattr(model, 'cls_head', None), 'class_names', None)
    names = names or (getattr(model, 'dataset_meta', None) or {}).get('classes')
    return list(names) if names else None


def inference_video(model: nn.Module,
                    video: Union[str, dict],
                    labels: Optional[Sequence[str]] = None,
                    topk: int = 5,
                    test_pipeline: Optional[Compose] = None,
                    amp: bool = False) -> List[Tuple[str, float]]:
    """Score a video against the model's classes, or against free-text ``labels``.

    With ``labels`` and a text-prompt head (one that scores class-name text), the video is scored against
    ``labels`` and the model's own classes are back in place afterwards, so any set of phrases can be scored. A head
    with a fixed set of classes only takes ``labels`` as the names of its classes, in order.

    Args:
        model (nn.Module): A model from :func:`init_model`.
        video (str | dict): A video file, or the input dict of the test pipeline.
        labels (Sequence[str], optional): Free-text labels to score, or for a fixed head the names of its classes.
            Defaults to None (the model's own classes).
        topk (int): How many of the best labels to return. Defaults to 5.
        test_pipeline (Compose, optional): Defaults to the config's ``test_pipeline``.
        amp (bool): Run the model under autocast (:func:`~videoalign.utils.precision.amp_dtype`: bf16 on a CPU or a
            GPU that supports it, else fp16); the scores are returned in float32. Defaults to False.

    Returns:
        list[tuple[str, float]]: ``(label, score)`` pairs, best first.
    """
    head = getattr(model, 'cls_head', None)
    open_vocabulary = hasattr(head, 'set_class_names')
    if test_pipeline is None:
        init_default_scope(model.cfg.get('default_scope', 'videoalign'))
        test_pipeline = Compose(model.cfg.test_pipeline)
    if isinstance(video, str):
        if not osp.isfile(video):
            raise FileNotFoundError(f'video {video} does not exist')
        video = dict(filename=video, label=-1, start_index=0, modality='RGB')
    data = pseudo_collate([test_pipeline(video)])
    own = head.class_names if open_vocabulary else None
    if labels is not None and open_vocabulary:
        head.set_class_names(list(labels))
    try:
        names = list(labels) if labels is not None else _class_names(model)
        with torch.no_grad(), autocast(model, amp):
            scores = model.test_step(data)[0].pred_score.float().cpu()
    finally:
        if labels is not None and open_vocabulary:
            head.set_class_names(own or None)
    if names is None:
        names = [str(i) for i in range(scores.numel())]
    elif len(names) != scores.numel():
        raise ValueError(f'{type(head).__name__} scores a fixed set of {scores.numel()} classes but got {len(names)} '
                         'labels; free-text labels need a text-prompt head (e.g. TextPromptHead)')
    values, indices = scores.topk(min(topk, scores.numel()))
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]
