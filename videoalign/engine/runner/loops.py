"""mmengine's epoch-based training loop, resumable in the middle of an epoch and idle once the run is finished."""
import logging
from itertools import islice
from typing import Any, Iterator, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from ...registry import LOOPS


def skip_batches(loader: DataLoader, done: int) -> DataLoader:
    """A loader over the batches of one pass of ``loader`` after its first ``done``, whose data is not read.

    The batch indices are drawn from ``loader.batch_sampler`` as they are (set the sampler's epoch first, so that the
    order is the one the skipped batches were trained in); only the remaining ones are loaded.

    Args:
        loader (DataLoader): A map-style loader with a batch sampler.
        done (int): The number of batches to skip.

    Returns:
        DataLoader: A loader like ``loader`` (dataset, workers, collate function) over the remaining batches.
    """
    batch_indices = list(islice(iter(loader.batch_sampler), done, None))
    return DataLoader(
        loader.dataset,
        batch_sampler=batch_indices,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        prefetch_factor=loader.prefetch_factor if loader.num_workers > 0 else None)


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues a resumed run where its checkpoint left it.

    mmengine's loop restarts the epoch of an iteration checkpoint from its first batch (the run then trains more
    iterations than ``max_epochs`` allows and sees some batches twice), and a resumed run that had already finished
    still runs its training hooks. Here:

    - a run resumed at iteration ``i`` of epoch ``e`` skips the ``i - e * len(dataloader)`` batches of that epoch it
      has already trained: their indices are drawn from the sampler (the same order as before, since the sampler is
      seeded by epoch) but no video is read;
    - a run whose checkpoint is at ``max_iters`` or ``max_epochs`` trains nothing and says so.

    :class:`~videoalign.engine.runner.VideoAlignRunner` uses this loop where a config asks for
    ``EpochBasedTrainLoop``. Arguments as mmengine's ``EpochBasedTrainLoop``.
    """

    def run(self) -> torch.nn.Module:
        """Train the remaining epochs, or report that the run is finished."""
        if self._epoch >= self._max_epochs or self._iter >= self._max_iters:
            print_log(
                f'nothing to train: the resumed run has finished (epoch {self._epoch} of {self._max_epochs}, '
                f'iteration {self._iter} of {self._max_iters}); raise train_cfg.max_epochs to train longer',
                logger='current',
                level=logging.WARNING)
            return self.runner.model
        return super().run()

    def run_epoch(self) -> None:
        """Iterate over the batches of this epoch not trained yet."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in self._epoch_batches():
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _epoch_batches(self) -> Iterator[Tuple[int, Any]]:
        """``(batch index, batch)`` for the batches of this epoch not trained yet (all of them, unless resumed)."""
        done = min(max(self._iter - self._epoch * len(self.dataloader), 0), len(self.dataloader))
        batches = self.dataloader if done == 0 else self._remaining(done)
        return enumerate(batches, start=done)

    def _remaining(self, done: int) -> DataLoader:
        """A loader over the batches of this epoch after the first ``done`` (whose data is not read)."""
        print_log(
            f'resuming in the middle of epoch {self._epoch + 1}: skipping its first {done} of '
            f'{len(self.dataloader)} batches, trained before the checkpoint',
            logger='current')
        return skip_batches(self.dataloader, done)
