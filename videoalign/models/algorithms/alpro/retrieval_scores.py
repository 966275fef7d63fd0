"""ALPRO's two ways of ranking videos and texts: VTM on every pair (official) or VTC top-k then VTM (LAVIS).

Both fill a ``(num_texts, num_videos)`` score matrix from the VTC similarities and a pair scorer (the fusion encoder
and ``itm_head`` on chosen ``(text, video)`` pairs). The fusion encoder, the costly part, runs once per pair that a
mode ranks; a pair both directions rank is scored once.

* ``'official'`` (``salesforce/ALPRO`` ``run_video_retrieval.py`` ``inference_retrieval``): every text against every
  video, score ``softmax(itm_logits)[:, 1]``; the VTC similarities are not used. Text-to-video and video-to-text read
  the same matrix.
* ``'lavis'`` (``salesforce/LAVIS`` ``AlproRetrieval.compute_sim_matrix``): for each text the ``k`` videos of highest
  VTC cosine similarity (no temperature), for each video the ``k`` texts; score ``itm_logits[:, 1] + similarity`` on
  those pairs and -100 elsewhere; the two directions get their own matrices.
* ``'vtc'``: the VTC cosine similarity alone, no fusion (a model trained with VTC only, such as ALPRO's prompter, or
  the fastest ranking).
"""
from typing import Callable, NamedTuple, Optional, Tuple

import torch
from mmengine import dist
from mmengine.utils import ProgressBar

__all__ = [
    'RetrievalScores', 'official_scores', 'lavis_scores', 'score_pairs', 'gather_by_index', 'check_mode',
    'UNRANKED_SCORE'
]

#: LAVIS's score of the pairs outside the top k.
UNRANKED_SCORE = -100.

#: ``pair_logits(text_idx, video_idx) -> (P, 2)`` VTM logits of the pairs ``(text_idx[p], video_idx[p])``.
PairLogits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class RetrievalScores(NamedTuple):
    """The score matrices of the two directions.

    Attributes:
        t2v (torch.Tensor): ``(num_texts, num_videos)``; row ``t`` ranks the videos for text ``t``.
        v2t (torch.Tensor): ``(num_videos, num_texts)``; row ``v`` ranks the texts for video ``v``.
        num_pairs (int): Pairs the fusion encoder scored.
    """
    t2v: torch.Tensor
    v2t: torch.Tensor
    num_pairs: int


def score_pairs(pair_logits: PairLogits,
                text_idx: torch.Tensor,
                video_idx: torch.Tensor,
                batch_size: int,
                progress: bool = False) -> torch.Tensor:
    """VTM logits of the pairs ``(text_idx[p], video_idx[p])``, ``batch_size`` pairs per fusion call.

    Args:
        pair_logits (Callable): ``(text_idx, video_idx) -> (P, 2)`` logits.
        text_idx (torch.Tensor): ``(P,)`` long.
        video_idx (torch.Tensor): ``(P,)`` long.
        batch_size (int): Pairs per call.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        torch.Tensor: ``(P, 2)`` float32 logits.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    starts = range(0, text_idx.numel(), batch_size)
    bar = ProgressBar(len(starts)) if progress and len(starts) else None
    chunks = []
    for start in starts:
        chunks.append(pair_logits(text_idx[start:start + batch_size], video_idx[start:start + batch_size]).float())
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return torch.cat(chunks) if chunks else text_idx.new_zeros((0, 2), dtype=torch.float32)


def official_scores(pair_logits: PairLogits,
                    num_texts: int,
                    num_videos: int,
                    batch_size: int,
                    videos: Optional[torch.Tensor] = None,
                    device: Optional[torch.device] = None,
                    progress: bool = False) -> RetrievalScores:
    """ALPRO's ranking: ``softmax(itm_logits)[:, 1]`` of every (text, video) pair.

    Args:
        pair_logits (Callable): The pair scorer.
        num_texts (int): Texts.
        num_videos (int): Videos.
        batch_size (int): Pairs per fusion call.
        videos (torch.Tensor, optional): Score only these video columns (the others stay 0), e.g. a rank's share
            of the videos, whose blocks are then summed over the ranks. Defaults to None: all videos.
        device (torch.device, optional): Device of the index tensors. Defaults to None: the CPU.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        RetrievalScores: ``v2t`` is ``t2v`` transposed.
    """
    videos = torch.arange(num_videos, device=device) if videos is None else videos.to(device)
    text_idx = torch.arange(num_texts, device=device).repeat_interleave(videos.numel())
    video_idx = videos.repeat(num_texts)
    probs = score_pairs(pair_logits, text_idx, video_idx, batch_size, progress).softmax(dim=1)[:, 1]
    t2v = torch.zeros(num_texts, num_videos, device=probs.device)
    t2v[text_idx.to(probs.device), video_idx.to(probs.device)] = probs
    return RetrievalScores(t2v, t2v.t(), text_idx.numel())


def _top_pairs(sim: torch.Tensor, k: int, rows: torch.Tensor) -> torch.Tensor:
    """``(P, 2)`` (row, column) pairs: the ``k`` columns of highest ``sim`` in each of ``rows``."""
    k = min(k, sim.shape[1])
    columns = sim[rows].topk(k, dim=1).indices
    return torch.stack([rows.repeat_interleave(k), columns.reshape(-1)], dim=1)


def lavis_scores(pair_logits: PairLogits,
                 sim_t2v: torch.Tensor,
                 k: int,
                 batch_size: int,
                 texts: Optional[torch.Tensor] = None,
                 videos: Optional[torch.Tensor] = None,
                 progress: bool = False) -> RetrievalScores:
    """LAVIS's ranking: VTC top-``k``, then ``itm_logits[:, 1] + similarity`` on those pairs, -100 elsewhere.

    Args:
        pair_logits (Callable): The pair scorer.
        sim_t2v (torch.Tensor): ``(num_texts, num_videos)`` cosine similarities of the VTC features.
        k (int): Candidates re-ranked per query (LAVIS: 256 for MSR-VTT); more than the gallery means all.
        batch_size (int): Pairs per fusion call.
        texts (torch.Tensor, optional): The text rows to rank (the others stay -100). Defaults to None: all.
        videos (torch.Tensor, optional): The video rows to rank. Defaults to None: all.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        RetrievalScores: The two matrices; a pair among the top k of both its text and its video is scored once.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    num_texts, num_videos = sim_t2v.shape
    device = sim_t2v.device
    texts = torch.arange(num_texts, device=device) if texts is None else texts.to(device)
    videos = torch.arange(num_videos, device=device) if videos is None else videos.to(device)
    t2v_pairs = _top_pairs(sim_t2v, k, texts)  # (text, video)
    v2t_pairs = _top_pairs(sim_t2v.t(), k, videos).flip(1)  # (text, video)
    pairs, inverse = torch.unique(torch.cat([t2v_pairs, v2t_pairs]), dim=0, return_inverse=True)
    logits = score_pairs(pair_logits, pairs[:, 0], pairs[:, 1], batch_size, progress)[:, 1].to(device)
    scores = logits[inverse] + sim_t2v[torch.cat([t2v_pairs, v2t_pairs]).unbind(1)].float()
    num_t2v = t2v_pairs.shape[0]
    t2v = sim_t2v.new_full((num_texts, num_videos), UNRANKED_SCORE, dtype=torch.float32)
    v2t = sim_t2v.new_full((num_videos, num_texts), UNRANKED_SCORE, dtype=torch.float32)
    t2v[t2v_pairs[:, 0], t2v_pairs[:, 1]] = scores[:num_t2v]
    v2t[v2t_pairs[:, 1], v2t_pairs[:, 0]] = scores[num_t2v:]
    return RetrievalScores(t2v, v2t, pairs.shape[0])


#: The rankings of :func:`check_mode`.
MODES = ('official', 'lavis', 'vtc')


def check_mode(mode: str, k: int, batch_size: int) -> Tuple[str, int, int]:
    """Validate the inference settings of a retrieval model.

    Args:
        mode (str): ``'official'``, ``'lavis'`` or ``'vtc'``.
        k (int): LAVIS's number of candidates.
        batch_size (int): Pairs per fusion call.

    Returns:
        tuple: ``(mode, k, batch_size)``.
    """
    if mode not in MODES:
        raise ValueError(f"inference mode must be 'official' (VTM on all pairs), 'lavis' (VTC top-k, then VTM) or "
                         f"'vtc' (VTC similarity only), got {mode!r}")
    if k < 1 or batch_size < 1:
        raise ValueError(f'inference k and batch_size must be >= 1, got k={k}, batch_size={batch_size}')
    return mode, k, batch_size


def gather_by_index(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """The rows of every rank placed at their dataset index: ``out[index[i]] = values[i]``, over all ranks.

    Ranks may hold different numbers of rows (a rank's videos have different numbers of captions), in any order,
    and the same row twice (the padding of a distributed sampler): rows go by their index, not by rank order.

    Args:
        values (torch.Tensor): ``(n, ...)`` local rows.
        index (torch.Tensor): ``(n,)`` long: the dataset index of each row.
        size (int): Rows of the output (the dataset's number of videos or texts).

    Returns:
        torch.Tensor: ``(size, ...)``, zero where no rank had the row.

    Raises:
        ValueError: If an index is outside ``[0, size)``.
    """
    if dist.get_world_size() > 1:
        count = torch.tensor([values.shape[0]], device=values.device)
        counts = [int(c) for c in dist.all_gather(count)]
        longest = max(counts)
        pad = longest - values.shape[0]
        padded_values = torch.cat([values, values.new_zeros((pad, *values.shape[1:]))])
        padded_index = torch.cat([index, index.new_zeros(pad)])
        values = torch.cat([v[:c] for v, c in zip(dist.all_gather(padded_values), counts)])
        index = torch.cat([i[:c] for i, c in zip(dist.all_gather(padded_index), counts)])
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= size):
        raise ValueError(f'row indices must be in [0, {size}), got [{int(index.min())}, {int(index.max())}]')
    out = values.new_zeros((size, *values.shape[1:]))
    out[index] = values
    return out
