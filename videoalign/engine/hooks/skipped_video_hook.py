"""Counts and reports the videos that the dataset skipped because they could not be read."""
from typing import List, Optional, Sequence, Union

from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from ...datasets.video_dataset import SKIPPED_KEY
from ...registry import HOOKS


def _batches(data_batch: Union[dict, Sequence, None]) -> List[dict]:
    """The batches (dicts) of ``data_batch``: itself, or those of a joint loop's tuple ``(video_batch, ...)``."""
    if isinstance(data_batch, dict):
        return [data_batch]
    if isinstance(data_batch, (list, tuple)):
        return [batch for batch in data_batch if isinstance(batch, dict)]
    return []


@HOOKS.register_module()
class SkippedVideoHook(Hook):
    """Log every video skipped during training, keep a running count, and write the list to the work dir.

    :class:`~videoalign.datasets.VideoDataset` replaces an unreadable video by another sample and records the
    skipped path on it; this hook reads those records from each batch (from every batch of the tuple that
    :class:`~videoalign.engine.runner.JointEpochBasedTrainLoop` trains on), logs them as they happen, puts the running
    count in the training log (``skipped_videos``), sums it over ranks at the end of each epoch and writes the paths
    to ``<work_dir>/skipped_videos.txt``.

    Args:
        interval (int): Also print the running total every ``interval`` epochs. Defaults to 1.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval
        self.skipped: list = []

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Union[dict, tuple, None] = None,
                         outputs: Optional[dict] = None) -> None:
        """Collect the paths recorded in this batch and log them."""
        new = [
            path for batch in _batches(data_batch) for sample in batch.get('data_samples') or []
            for path in getattr(sample, 'metainfo', {}).get(SKIPPED_KEY, [])
        ]
        if new:
            self.skipped.extend(new)
            runner.logger.warning(f'skipped {len(new)} unreadable video(s) in iteration {runner.iter + 1}: '
                                  f'{", ".join(new)} (this rank: {len(self.skipped)} so far)')
        runner.message_hub.update_scalar('train/skipped_videos', len(self.skipped))

    def after_train_epoch(self, runner) -> None:
        """Gather the paths of all ranks and write ``skipped_videos.txt`` (main process)."""
        if not (self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner)):
            return
        gathered = all_gather_object(self.skipped)  # a collective: every rank takes part
        if not is_main_process():
            return
        paths = sorted({path for rank_paths in gathered for path in rank_paths})
        if paths:
            runner.logger.warning(f'{sum(map(len, gathered))} skips of {len(paths)} distinct unreadable video(s) '
                                  f'so far; the list is in {runner.work_dir}/skipped_videos.txt')
            with open(f'{runner.work_dir}/skipped_videos.txt', 'w', encoding='utf-8') as f:
                f.write('\n'.join(paths) + '\n')
