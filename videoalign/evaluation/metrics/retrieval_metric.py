"""Recall at K, median and mean rank of retrieval scores (ALPRO's retrieval metrics) for mmaction2's retrieval loops."""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from ...registry import METRICS


def best_gt_rank(scores: Any, gt: Any) -> int:
    """The 1-based rank of the best-ranked ground truth among ``scores``.

    Candidates are ranked by descending score; equal scores keep their index order (as a stable
    ``torch.sort(scores, descending=True, stable=True)``). So the rank of candidate ``j`` is
    ``1 + #{i: s_i > s_j} + #{i < j: s_i == s_j}``, and the result is the least rank over the ground truths.

    Args:
        scores (Tensor | np.ndarray | Sequence[float]): Scores of all candidates, shape ``(C, )``.
        gt (int | Sequence[int] | Tensor | np.ndarray): Index(es) of the ground-truth candidate(s).

    Returns:
        int: A rank in ``1 .. C``.
    """
    scores = torch.as_tensor(scores).detach().cpu().reshape(-1)
    if scores.is_floating_point() and scores.dtype != torch.float64:
        scores = scores.float()  # bf16 / fp16 scores: compare in float32
    gt_ids = torch.as_tensor(gt).detach().cpu().reshape(-1).long()
    num = scores.numel()
    if gt_ids.numel() == 0:
        raise ValueError('a sample has no ground truth (empty gt_label)')
    if int(gt_ids.min()) < 0 or int(gt_ids.max()) >= num:
        raise ValueError(f'ground truth {gt_ids.tolist()} out of range for {num} scores')
    if torch.isnan(scores).any():
        raise ValueError('pred_score holds NaN')
    index = torch.arange(num)
    best = num
    for g in gt_ids.tolist():
        s = scores[g]
        rank = 1 + int((scores > s).sum()) + int(((scores == s) & (index < g)).sum())
        best = min(best, rank)
    return best


@METRICS.register_module()
class RetrievalRankMetric(BaseMetric):
    """Recall at K, median rank and mean rank of retrieval scores, as ALPRO reports them.

    Takes the samples of mmaction2's ``RetrievalValLoop`` / ``RetrievalTestLoop`` (the ``i2t`` and then the
    ``t2i`` samples of the model's ``predict_all``), as mmaction2's ``RetrievalRecall``: each has ``pred_score``
    (the scores of all candidates: all texts for ``i2t``, all videos for ``t2i``) and ``gt_label`` (the index of
    the ground-truth candidate, or a list of them: a video's texts); a multi-hot ``gt_score`` is read when there is
    no ``gt_label``. For each sample the 1-based rank of its best-ranked ground truth is kept (not the scores).
    Candidates are ranked by descending score, equal scores in index order (a stable descending sort; ALPRO ranks
    with ``torch.sort(descending=True)``, whose order of ties is not specified).

    Metrics (the names of ALPRO and of mmaction2's ``RetrievalMetric``): ``R<k>`` for each ``k`` of ``topk``
    (percent of samples whose best ground truth ranks ``<= k``), ``MdR`` (median rank) and ``MnR`` (mean rank).
    With ``default_prefix`` 'retrieval' and the loops' prefixes they are logged as e.g. ``t2i/retrieval/R1``.

    For one ground truth per sample (``t2i``, ALPRO's text-to-video) these are ALPRO's numbers. For several
    (``i2t``, a video with several captions) a video counts as found at the rank of its best caption, the recall
    of mmaction2's ``RetrievalRecall.calculate`` with a multi-hot target. ALPRO's own video-to-text evaluation
    instead keeps one caption per video (the last of the video in its annotation file).

    The recalls equal those of ``RetrievalRecall.calculate(scores, multi_hot_targets, topk)`` (when no scores tie).
    mmaction2's ``RetrievalRecall.process`` (mmaction2 1.2) does not compute that: it one-hot encodes ``gt_label``
    into a ``(len(gt), C)`` matrix, whose row indices then also count as hits, so candidates ``0 .. len(gt) - 1``
    (candidate 0 for a single ground truth) are always found, which inflates its recalls.

    Args:
        topk (int | Sequence[int]): The K of the recalls. Defaults to ``(1, 5, 10)``.
        collect_device (str): Device to gather the results across ranks: ``'cpu'`` or ``'gpu'``. Defaults to
            ``'cpu'``.
        prefix (str, optional): Prefix of the metric names; None means ``'retrieval'``. Defaults to None.
    """

    default_prefix: Optional[str] = 'retrieval'

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, 5, 10),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in topk):
            raise ValueError(f'topk must be an int >= 1 or a non-empty list of them, got {topk!r}')
        self.topk = topk
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Keep the rank of the best ground truth of each sample.

        Args:
            data_batch (Any): Unused (the retrieval loops pass None).
            data_samples (Sequence[dict]): Samples with ``pred_score`` and ``gt_label`` (or ``gt_score``).
        """
        for sample in data_samples:
            if 'gt_label' in sample:
                gt = sample['gt_label']
            elif 'gt_score' in sample:
                gt = torch.as_tensor(sample['gt_score']).reshape(-1).nonzero().reshape(-1)
            else:
                raise KeyError('a retrieval sample needs gt_label (or gt_score)')
            self.results.append(dict(rank=best_gt_rank(sample['pred_score'], gt)))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """``R<k>``, ``MdR`` and ``MnR`` over the ranks.

        Args:
            results (list[dict]): The ``rank`` of each sample.

        Returns:
            dict[str, float]: The metrics.
        """
        ranks = np.array([r['rank'] for r in results], dtype=np.float64)
        if ranks.size == 0:
            raise ValueError('no retrieval samples were processed')
        metrics = {f'R{k}': float(100.0 * np.mean(ranks <= k)) for k in self.topk}
        metrics['MdR'] = float(np.median(ranks))
        metrics['MnR'] = float(np.mean(ranks))
        return metrics
