"""mmaction2's AccMetric that leaves out the stand-ins for unreadable videos."""
import logging
from typing import Any, Dict, List, Sequence

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
                kept.append(sample)
        super().process(data_batch, kept)

    def compute_metrics(self, results: List) -> Dict:
        """Metrics over the scored samples, plus the count of skipped videos."""
        skipped = sorted({path for r in results if SKIPPED_KEY in r for path in r[SKIPPED_KEY]})
        metrics = super().compute_metrics([r for r in results if SKIPPED_KEY not in r])
        if skipped:
            print_log(f'{len(skipped)} unreadable video(s) were not evaluated: {", ".join(skipped)}',
                      logger='current', level=logging.WARNING)
            metrics[SKIPPED_KEY] = len(skipped)
        return metrics
