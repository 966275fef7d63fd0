"""The index of a set of videos and text-to-video search over it.

This module holds :class:`VideoIndex` (VTC features, optionally video tokens; in memory or loaded from an index
folder), the index folder's format (``manifest.json``, ``shards/``), the identity of the model that built an index
(config signature, checkpoint sha256) with :func:`check_index`, and the ranking: :func:`rank_videos` and
:func:`search_videos`.

The ranking is the cosine similarity of the L2-normalised VTC features; optionally the ``rerank`` best candidates of
each query are re-scored as LAVIS does (``AlproRetrieval.compute_sim_matrix``): ``itm_logits[:, 1] + similarity``,
which needs the video tokens (``save_tokens=True`` when indexing). Index folders are written by
:func:`videoalign.apis.indexing.index_videos`.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config

from .inference import _load_config
from .retrieval import IndexMismatchError, _pipeline_cfg, _require, encode_text, encode_video

__all__ = ['MANIFEST', 'SHARD_DIR', 'VideoIndex', 'rank_videos', 'search_videos', 'check_index']

MANIFEST = 'manifest.json'
SHARD_DIR = 'shards'
INDEX_FORMAT = 'videoalign-video-index'
INDEX_VERSION = 1


# ---------------------------------------------------------------------------------------------------- the index
class _ShardTokens:
    """The video tokens of an index, read from its shards on demand (memory-mapped): ``tokens[indices]``.

    Args:
        shards (dict): Shard name -> ``(n, L, D)`` tensor (memory-mapped).
        rows (list[tuple[str, int]]): ``(shard name, row)`` of each video of the index.
    """

    def __init__(self, shards: Dict[str, torch.Tensor], rows: List[Tuple[str, int]]) -> None:
        self.shards = shards
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, indices: Union[torch.Tensor, Sequence[int]]) -> torch.Tensor:
        indices = indices.tolist() if isinstance(indices, torch.Tensor) else list(indices)
        return torch.stack([self.shards[self.rows[i][0]][self.rows[i][1]] for i in indices])


class VideoIndex:
    """The VTC features (and optionally the video tokens) of a set of videos, for :func:`search_videos`.

    Build it in memory with :meth:`from_videos`, or load a folder written by :func:`index_videos` with :meth:`load`.

    Args:
        paths (Sequence[str]): The videos, relative to ``root`` (or as given when ``root`` is empty).
        feats (torch.Tensor): ``(N, E)`` L2-normalised features, row ``i`` of ``paths[i]``.
        tokens (torch.Tensor | _ShardTokens, optional): ``(N, 1 + P, D)`` video tokens for re-ranking. Defaults to
            None.
        root (str): The folder of the videos. Defaults to ``''``.
        manifest (dict, optional): The manifest of an index folder. Defaults to None.
    """

    def __init__(self,
                 paths: Sequence[str],
                 feats: torch.Tensor,
                 tokens: Optional[Any] = None,
                 root: str = '',
                 manifest: Optional[dict] = None) -> None:
        if feats.dim() != 2 or feats.shape[0] != len(paths):
            raise ValueError(f'expected features of shape ({len(paths)}, E) for {len(paths)} videos, got '
                             f'{tuple(feats.shape)}')
        if tokens is not None and len(tokens) != len(paths):
            raise ValueError(f'expected video tokens for {len(paths)} videos, got {len(tokens)}')
        self.paths = list(paths)
        self.feats = feats.float()
        self.tokens = tokens
        self.root = root
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        where = f', root={self.root!r}' if self.root else ''
        return (f'VideoIndex({len(self)} videos, embed_dim={self.feats.shape[1]}, '
                f'tokens={self.tokens is not None}{where})')

    def video_path(self, i: int) -> str:
        """The path of video ``i`` (joined to :attr:`root`)."""
        return osp.join(self.root, self.paths[i]) if self.root else self.paths[i]

    @classmethod
    def from_videos(cls,
                    model: nn.Module,
                    videos: Sequence[str],
                    batch_size: int = 8,
                    with_tokens: bool = False,
                    show_progress: bool = False) -> 'VideoIndex':
        """Encode ``videos`` into an in-memory index (nothing is written; see :func:`index_videos` for a folder).

        Args:
            model (nn.Module): The retrieval model.
            videos (Sequence[str]): Video files.
            batch_size (int): Videos per forward pass. Defaults to 8.
            with_tokens (bool): Keep the video tokens, for re-ranking. Defaults to False.
            show_progress (bool): Show a progress bar. Defaults to False.

        Returns:
            VideoIndex: The index.
        """
        out = encode_video(model, videos, batch_size, return_tokens=with_tokens, show_progress=show_progress)
        feats, tokens = out if with_tokens else (out, None)
        return cls([os.fspath(v) for v in videos], feats, tokens)

    @classmethod
    def load(cls, index_dir: str) -> 'VideoIndex':
        """Load an index folder written by :func:`index_videos` (the tokens stay on disk until used).

        Args:
            index_dir (str): The folder.

        Returns:
            VideoIndex: Its videos in the order of their relative paths, rooted at the indexed folder.
        """
        manifest = _read_manifest(index_dir)
        if manifest is None:
            raise FileNotFoundError(f'{index_dir} is not a video index (no {MANIFEST}): build one with '
                                    f'python tools/video_search.py index CONFIG CHECKPOINT VIDEO_DIR --out {index_dir}')
        videos = manifest['videos']
        paths = sorted(videos)
        used = sorted({videos[p]['shard'] for p in paths})
        shards = {}
        for name in used:
            path = osp.join(index_dir, SHARD_DIR, name)
            if not osp.isfile(path):
                raise FileNotFoundError(f'{index_dir} is incomplete: {path}, listed in {MANIFEST}, is missing; run the '
                                        f'index command again (it re-encodes the videos of missing shards)')
            shards[name] = torch.load(path, map_location='cpu', mmap=True, weights_only=True)
        feats = torch.zeros(len(paths), int(manifest.get('embed_dim') or 0))
        by_shard: Dict[str, Tuple[List[int], List[int]]] = {name: ([], []) for name in used}
        for i, rel in enumerate(paths):
            by_shard[videos[rel]['shard']][0].append(i)
            by_shard[videos[rel]['shard']][1].append(videos[rel]['row'])
        for name, (positions, rows) in by_shard.items():
            feats[torch.tensor(positions)] = shards[name]['video_feat'][torch.tensor(rows)].float()
        tokens = None
        if paths and all(manifest['shards'][name].get('tokens') for name in used):
            tokens = _ShardTokens({
                name: shard['video_tokens']
                for name, shard in shards.items()
            }, [(videos[p]['shard'], videos[p]['row']) for p in paths])
        return cls(paths, feats, tokens, root=manifest['video_dir'], manifest=dict(manifest, index_dir=index_dir))


# ---------------------------------------------------------------------------------------------------- search
def _as_index(index: Union[str, VideoIndex], model: nn.Module) -> VideoIndex:
    if isinstance(index, VideoIndex):
        return index
    if not isinstance(index, (str, os.PathLike)):
        raise TypeError(f'index must be a VideoIndex or an index folder, got {type(index).__name__}')
    index = os.fspath(index)
    if isinstance(getattr(model, 'cfg', None), Config):
        check_index(index, model.cfg)
    return VideoIndex.load(index)


def rank_videos(model: nn.Module,
                queries: Union[str, Sequence[str]],
                index: Union[str, VideoIndex],
                topk: int = 5,
                rerank: int = 0,
                batch_size: int = 32) -> List[List[dict]]:
    """The ``topk`` videos of ``index`` for each query, with the details of their scores.

    Videos are ranked by the cosine similarity of the VTC features. With ``rerank=K``, the ``K`` most similar videos
    of each query are re-scored with ``itm_logits[:, 1] + similarity`` (LAVIS) and come first, in that order; the
    others follow by similarity.

    Args:
        model (nn.Module): The retrieval model that built the index.
        queries (str | Sequence[str]): Free-text queries.
        index (str | VideoIndex): An index, or an index folder written by :func:`index_videos` (checked to be of the
            model's config).
        topk (int): Videos returned per query. Defaults to 5.
        rerank (int): Candidates re-ranked per query; 0 for none. Defaults to 0.
        batch_size (int): Pairs per ``itm_logits`` call. Defaults to 32.

    Returns:
        list[list[dict]]: Per query, best first: ``video`` (path in the index), ``path`` (joined to the index's
        folder), ``score``, ``similarity`` (cosine) and ``reranked`` (whether ``score`` is ``itm + similarity``).
    """
    queries = [queries] if isinstance(queries, str) else list(queries)
    if topk < 1:
        raise ValueError(f'topk must be >= 1, got {topk}')
    if rerank < 0:
        raise ValueError(f'rerank must be >= 0, got {rerank}')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    _require(model, ['encode_text', 'itm_logits'] if rerank else ['encode_text'], 'text-to-video search')
    index = _as_index(index, model)
    if rerank and index.tokens is None:
        where = (index.manifest or {}).get('index_dir')
        raise ValueError(f're-ranking needs the video tokens, which {where or "this index"} does not hold: ' + (
            'index the folder with --save-tokens (save_tokens=True)' if where else 'build it with with_tokens=True'))
    if not len(index):
        return [[] for _ in queries]
    text_feats = encode_text(model, queries)
    if text_feats.shape[1] != index.feats.shape[1]:
        raise IndexMismatchError(f'the model embeds texts in {text_feats.shape[1]} dimensions but the index holds '
                                 f'{index.feats.shape[1]}-dimensional video features (another model built it)')
    sims = text_feats @ index.feats.t()
    param = next(model.parameters())
    results = []
    for query, row in zip(queries, sims):
        order = row.topk(min(len(index), max(topk, rerank))).indices
        scores = row[order].clone()
        num_reranked = min(rerank, order.numel())
        if num_reranked:
            candidates = order[:num_reranked]
            with torch.no_grad():
                text = model.encode_text([query])
                logits = []
                for start in range(0, num_reranked, batch_size):
                    tokens = index.tokens[candidates[start:start + batch_size]].to(param.device, param.dtype)
                    states = text['text_states'].expand(tokens.shape[0], -1, -1)
                    mask = text['text_mask'].expand(tokens.shape[0], -1)
                    logits.append(model.itm_logits(states, mask, tokens)[:, 1].float().cpu())
            new = torch.cat(logits) + row[candidates]
            resorted = new.argsort(descending=True)
            order = torch.cat([candidates[resorted], order[num_reranked:]])
            scores = torch.cat([new[resorted], row[order[num_reranked:]]])
        matches = []
        for rank, (i, score) in enumerate(zip(order[:topk].tolist(), scores[:topk].tolist())):
            matches.append(
                dict(
                    video=index.paths[i],
                    path=index.video_path(i),
                    score=float(score),
                    similarity=float(row[i]),
                    reranked=rank < num_reranked))
        results.append(matches)
    return results


def search_videos(model: nn.Module,
                  query: Union[str, Sequence[str]],
                  index: Union[str, VideoIndex],
                  topk: int = 5,
                  rerank: int = 0,
                  batch_size: int = 32) -> Union[List[Tuple[str, float]], List[List[Tuple[str, float]]]]:
    """The ``topk`` videos of ``index`` that best match a free-text query (see :func:`rank_videos`).

    Args:
        model (nn.Module): The retrieval model that built the index (``AlproRetrieval``).
        query (str | Sequence[str]): A query, or a list of them.
        index (str | VideoIndex): An index, or an index folder written by :func:`index_videos`.
        topk (int): Videos returned. Defaults to 5.
        rerank (int): Candidates re-scored with ``itm_logits[:, 1] + similarity``; 0 for none. Defaults to 0.
        batch_size (int): Pairs per ``itm_logits`` call. Defaults to 32.

    Returns:
        list[tuple[str, float]] | list[list[tuple[str, float]]]: ``(video path, score)`` pairs, best first; one list
        per query when ``query`` is a list.
    """
    ranked = rank_videos(model, query, index, topk=topk, rerank=rerank, batch_size=batch_size)
    pairs = [[(m['path'], m['score']) for m in matches] for matches in ranked]
    return pairs[0] if isinstance(query, str) else pairs


# ---------------------------------------------------------------------------------------------------- index folders
def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _checkpoint_identity(checkpoint: Optional[str], known: Optional[dict] = None) -> dict:
    """Path, size, mtime and sha256 of a local checkpoint (the hash is reused from ``known`` if the file is the same
    by path, size and mtime), or the name of a remote one."""
    if checkpoint is None or not osp.isfile(checkpoint):
        return dict(checkpoint=checkpoint)
    stat = os.stat(checkpoint)
    identity = dict(checkpoint=osp.abspath(checkpoint), size=stat.st_size, mtime=stat.st_mtime)
    if known and all(known.get(k) == v for k, v in identity.items()) and known.get('sha256'):
        identity['sha256'] = known['sha256']
    else:
        identity['sha256'] = _sha256(checkpoint)
    return identity


def _describe(identity: dict) -> str:
    """``the checkpoint <path> (sha256 <first 12>)`` for messages."""
    if identity.get('checkpoint') is None:
        return 'no checkpoint (the initial weights)'
    sha = f' (sha256 {identity["sha256"][:12]})' if identity.get('sha256') else ''
    return f'the checkpoint {identity["checkpoint"]}{sha}'


def _signature(cfg: Config) -> dict:
    """What of a config decides the embeddings: the model and the test pipeline (as plain JSON values).

    ``model.inference`` (how ``AlproRetrieval`` ranks in its evaluation) is left out: it does not change the
    embeddings.
    """
    return _embedding_settings(
        json.loads(json.dumps(dict(model=cfg.model, test_pipeline=_pipeline_cfg(cfg)), sort_keys=True, default=str)))


def _embedding_settings(signature: Any) -> Any:
    """A signature without ``model.inference`` (also for manifests written before it was left out)."""
    model = signature.get('model') if isinstance(signature, dict) else None
    if isinstance(model, dict) and 'inference' in model:
        signature = dict(signature, model={k: v for k, v in model.items() if k != 'inference'})
    return signature


def _differences(old: Any, new: Any, prefix: str = '') -> List[str]:
    """Dotted keys where two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [d for k in keys for d in _differences(old.get(k), new.get(k), f'{prefix}.{k}' if prefix else k)]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f'{prefix}.{i}')]
    return [] if old == new else [prefix or '(root)']


def _read_manifest(index_dir: str) -> Optional[dict]:
    path = osp.join(index_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as err:
        raise IndexMismatchError(
            f'{path} cannot be read ({err}); remove {index_dir} or index again with --rebuild') from None
    if not isinstance(manifest,
                      dict) or manifest.get('format') != INDEX_FORMAT or manifest.get('version') != INDEX_VERSION:
        manifest = manifest if isinstance(manifest, dict) else {}
        raise IndexMismatchError(
            f'{path} is not a videoalign video index of version {INDEX_VERSION} (format '
            f'{manifest.get("format")!r}, version {manifest.get("version")!r}); index again with --rebuild')
    return manifest


def check_index(index_dir: str,
                config: Union[str, Config],
                checkpoint: Optional[str] = None,
                video_dir: Optional[str] = None) -> Optional[dict]:
    """Make sure an index folder was built with this config (model and test pipeline), checkpoint and video folder.

    Args:
        index_dir (str): The index folder.
        config (str | Config): The config (with its ``--cfg-options`` merged).
        checkpoint (str, optional): The checkpoint; None skips its check. Defaults to None.
        video_dir (str, optional): The video folder; None skips its check. Defaults to None.

    Returns:
        dict | None: The manifest, or None if ``index_dir`` holds no index yet.

    Raises:
        IndexMismatchError: Naming what differs, and what to do (a new folder or ``--rebuild``).
    """
    manifest = _read_manifest(index_dir)
    if manifest is None:
        return None
    cfg = _load_config(config)
    advice = (f'search it with the config and checkpoint it was built with; to index with these, give a new --out '
              f'folder, or --rebuild to replace the index in {index_dir}')
    differences = _differences(_embedding_settings(manifest['signature']), _signature(cfg))
    if differences:
        shown = ', '.join(differences[:5]) + (f' and {len(differences) - 5} more' if len(differences) > 5 else '')
        raise IndexMismatchError(f'{index_dir} was built with another config ({manifest["model"]["config"]}); '
                                 f'these settings differ: {shown}. Its features do not fit this model: {advice}')
    if checkpoint is not None:
        stored = manifest['model']
        identity = _checkpoint_identity(checkpoint, stored)
        if 'sha256' in identity:
            same = identity['sha256'] == stored.get('sha256')
        else:
            same = identity['checkpoint'] == stored.get('checkpoint')
        if not same:
            raise IndexMismatchError(f'{index_dir} was built with {_describe(stored)}, not with '
                                     f'{_describe(identity)}. Its features do not fit this model: {advice}')
    if video_dir is not None and osp.abspath(video_dir) != manifest['video_dir']:
        raise IndexMismatchError(f'{index_dir} indexes the videos of {manifest["video_dir"]}, not '
                                 f'{osp.abspath(video_dir)}: {advice}')
    return manifest
