"""Encoding videos and texts with a video-text retrieval model (ALPRO), for text-to-video search.

This module holds the retrieval models that search supports, the errors of the search API, the test-pipeline helpers
that read videos, and :func:`encode_video` / :func:`encode_text` (L2-normalised VTC features). The index of a set of
videos, its manifest and the ranking (:func:`search_videos`, :func:`rank_videos`) are in
:mod:`videoalign.apis.video_index`; writing an index folder (:func:`index_videos`) is in
:mod:`videoalign.apis.indexing`. ``docs/video_search.md`` describes the index layout and the command-line tool
``tools/video_search.py``.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from ..utils.precision import autocast

__all__ = [
    'SEARCH_MODELS', 'VIDEO_EXTS', 'IndexMismatchError', 'IndexBusyError', 'UnreadableVideoError', 'encode_video',
    'encode_text'
]

#: Registered models that :func:`search_videos` supports (they have ``encode_video``, ``encode_text``, ``itm_logits``).
SEARCH_MODELS = ('AlproRetrieval', )
#: The file extensions :func:`index_videos` takes by default (compared case-insensitively).
VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.flv', '.mpg', '.mpeg', '.wmv')


class IndexMismatchError(ValueError):
    """An index built by another model (config or checkpoint) or from another video folder."""


class IndexBusyError(RuntimeError):
    """An index folder that another running index command is writing."""


class UnreadableVideoError(RuntimeError):
    """A video that the test pipeline cannot open or decode."""


# ---------------------------------------------------------------------------------------------------- encoding
def _require(model: nn.Module, methods: Sequence[str], purpose: str) -> None:
    """Raise a ``TypeError`` naming the model class unless it has all ``methods``."""
    missing = [name for name in methods if not callable(getattr(model, name, None))]
    if missing:
        raise TypeError(f'{type(model).__name__} has no {", ".join(missing)}: {purpose} needs a video-text retrieval '
                        f'model with encode_video, encode_text and itm_logits ({", ".join(SEARCH_MODELS)}, e.g. the '
                        f'configs in configs/alpro/)')


def _pipeline_cfg(cfg: Config) -> list:
    """The test pipeline of a config: ``test_dataloader.dataset.pipeline``, else ``test_pipeline``."""
    pipeline = (cfg.get('test_dataloader') or {}).get('dataset', {}).get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError(f'{cfg.filename or "the config"} has neither test_dataloader.dataset.pipeline nor '
                       f'test_pipeline: the videos are read with the test pipeline')
    return list(pipeline)


def _model_cfg(model: nn.Module) -> Config:
    cfg = getattr(model, 'cfg', None)
    if not isinstance(cfg, Config):
        raise ValueError(f'{type(model).__name__} has no config in model.cfg: build it with '
                         f'videoalign.apis.init_model(config, checkpoint)')
    return cfg


def _test_pipeline(model: nn.Module) -> Compose:
    """The model config's test pipeline, built in the config's scope."""
    cfg = _model_cfg(model)
    init_default_scope(cfg.get('default_scope', 'videoalign'))
    return Compose(_pipeline_cfg(cfg))


def _video_input(path: str) -> dict:
    """The input dict of the test pipeline for a video file (as :func:`~videoalign.apis.inference_video`)."""
    return dict(filename=path, label=-1, start_index=0, modality='RGB')


def _load_video(pipeline: Compose, path: str) -> dict:
    """Run the test pipeline on ``path``.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        UnreadableVideoError: If the pipeline fails (naming the video and the pipeline's error).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'video {path} does not exist')
    try:
        return pipeline(_video_input(path))
    except Exception as err:  # decord raises DECORDError, RuntimeError or others depending on the damage
        raise UnreadableVideoError(f'cannot read video {path}: {type(err).__name__}: {err}') from err


def _encode_samples(model: nn.Module,
                    samples: List[dict],
                    return_tokens: bool,
                    amp: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Encode packed pipeline outputs: ``(n, E)`` float32 normalised features and ``(n, L, D)`` tokens, on the CPU."""
    data = model.data_preprocessor(pseudo_collate(samples), False)
    device = data['inputs'].device
    with torch.no_grad(), autocast(device, amp):
        out = model.encode_video(data['inputs'])
    feats = F.normalize(out['video_feat'].float(), dim=-1).cpu()
    tokens = out['video_tokens'].detach().cpu() if return_tokens else None
    return feats, tokens


def encode_video(model: nn.Module,
                 videos: Union[str, Sequence[str]],
                 batch_size: int = 8,
                 return_tokens: bool = False,
                 test_pipeline: Optional[Compose] = None,
                 show_progress: bool = False,
                 amp: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    """The L2-normalised VTC features of videos, read with the config's test pipeline and the data preprocessor.

    Args:
        model (nn.Module): A retrieval model from :func:`~videoalign.apis.init_model` (e.g. ``AlproRetrieval``).
        videos (str | Sequence[str]): A video file or a list of them.
        batch_size (int): Videos per forward pass. Defaults to 8.
        return_tokens (bool): Also return the video tokens, which re-ranking (``itm_logits``) needs. Defaults to
            False.
        test_pipeline (Compose, optional): Defaults to the config's (``test_dataloader.dataset.pipeline``, else
            ``test_pipeline``).
        show_progress (bool): Show a progress bar. Defaults to False.
        amp (bool): Encode under autocast (:func:`~videoalign.utils.precision.amp_dtype`: bf16 on a CPU or a GPU
            that supports it, else fp16). Defaults to False.

    Returns:
        torch.Tensor | tuple[torch.Tensor, torch.Tensor]: ``(N, E)`` float32 features on the CPU (``(1, E)`` for one
        path), and with ``return_tokens`` the ``(N, 1 + P, D)`` video tokens.

    Raises:
        TypeError: If the model cannot encode videos.
        FileNotFoundError: If a video does not exist.
        UnreadableVideoError: If a video cannot be decoded (the message names it).
    """
    _require(model, ['encode_video'], 'encode_video')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    paths = [videos] if isinstance(videos, (str, os.PathLike)) else list(videos)
    paths = [os.fspath(path) for path in paths]
    if not paths:
        raise ValueError('encode_video got no video')
    pipeline = test_pipeline if test_pipeline is not None else _test_pipeline(model)
    bar = ProgressBar(len(paths)) if show_progress and paths else None
    feats, tokens = [], []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        batch_feats, batch_tokens = _encode_samples(model, [_load_video(pipeline, p) for p in chunk], return_tokens,
                                                    amp)
        feats.append(batch_feats)
        tokens.append(batch_tokens)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        print()
    feats = torch.cat(feats)
    return (feats, torch.cat(tokens)) if return_tokens else feats


def encode_text(model: nn.Module,
                texts: Union[str, Sequence[str]],
                batch_size: int = 256,
                amp: bool = False) -> torch.Tensor:
    """The L2-normalised VTC features of texts.

    Args:
        model (nn.Module): A retrieval model (e.g. ``AlproRetrieval``).
        texts (str | Sequence[str]): A text or a list of them.
        batch_size (int): Texts per forward pass. Defaults to 256.
        amp (bool): Encode under autocast (as :func:`encode_video`). Defaults to False.

    Returns:
        torch.Tensor: ``(N, E)`` float32 features on the CPU.
    """
    _require(model, ['encode_text'], 'encode_text')
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise ValueError('encode_text got no text')
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(f'texts must be strings, got {type(bad[0]).__name__}: {bad[0]!r}')
    feats = []
    with torch.no_grad(), autocast(model, amp):
        for start in range(0, len(texts), batch_size):
            feats.append(F.normalize(model.encode_text(texts[start:start + batch_size])['text_feat'].float(), dim=-1))
    return torch.cat(feats).cpu()
