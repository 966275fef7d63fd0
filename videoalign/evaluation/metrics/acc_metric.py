"""mmaction2's AccMetric that leaves out the stand-ins for unreadable videos and scores in float32."""
import logging
from typing import Any, Dict, List, Mapping, Sequence, Union

import torch
from mmaction.evaluation import AccMetric as _MMActionAccMetric
from mmengine.logging import print_log

from ...datasets.video_dataset import SKIPPED_KEY
from ...registry import METRICS


@METRICS.register_module()
class AccMetric(_MMActionAccMetric):
    """mmaction2's ``AccMetric``; a sample that stands in for unreadable videos is not scored.

    :class:`~videoalign.datasets.VideoDataset` evaluates the next readable video in place of an unreadable one
    and marks it with ``skipped_videos``; scoring the stand-in would count another video twice, so it is left out.
    The number of unreadable videos, over all ranks, is logged and returned as ``skipped_videos`` when not zero.
    Predictions are scored in float32: mmaction2 turns them into NumPy arrays, which have no ``bfloat16`` (a model
    evaluated under bf16 autocast), so reduced-precision scores are converted first.
    Registered under mmaction2's name in videoalign's scope; other arguments as in mmaction2's ``AccMetric``.
    """

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Score the samples of one batch; a stand-in adds one record of the videos it replaced instead."""
        kept = []
        for sample in data_samples:
            skipped = sample.get(SKIPPED_KEY)
            if skipped:
                # exactly one result per sample: mmengine truncates the gathered results to the dataset size
                self.results.append({SKIPPED_KEY: list(skipped)})
            else:
                kept.append(_with_float32_scores(sample))
        super().process(data_batch, kept)

    def compute_metrics(self, results: List) -> Dict:
        """Metrics over the scored samples, plus the count of skipped videos."""
        skipped = sorted({path for r in results if SKIPPED_KEY in r for path in r[SKIPPED_KEY]})
        metrics = super().compute_metrics([r for r in results if SKIPPED_KEY not in r])
        if skipped:
            print_log(
                f'{len(skipped)} unreadable video(s) were not evaluated: {", ".join(skipped)}',
                logger='current',
                level=logging.WARNING)
            metrics[SKIPPED_KEY] = len(skipped)
        return metrics


def _to_float32(score: Any) -> Any:
    """A reduced-precision float tensor (bf16, fp16) as float32; anything else unchanged."""
    if isinstance(score, torch.Tensor) and score.is_floating_point() and score.dtype != torch.float64:
        return score.float()
    return score


def _with_float32_scores(sample: Mapping) -> Union[Mapping, Dict]:
    """``sample`` (a data sample as a dict) with its ``pred_score`` (a tensor or a dict of tensors) in float32.

    Args:
        sample (Mapping): A data sample as the evaluator passes it, with ``pred_score`` and ``gt_label``.

    Returns:
        Mapping: ``sample`` itself when it has no ``pred_score``, else a shallow copy with converted scores.
    """
    if 'pred_score' not in sample:
        return sample
    score = sample['pred_score']
    score = {k: _to_float32(v) for k, v in score.items()} if isinstance(score, Mapping) else _to_float32(score)
    return dict(sample, pred_score=score)
