"""An epoch-based training loop that gives every iteration one batch of each of several loaders (video + image)."""
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dataset import InfiniteSampler
from mmengine.logging import print_log
from torch.utils.data import DataLoader

from ...registry import LOOPS
from .loops import ResumableEpochBasedTrainLoop, skip_batches


def _epoch_sampler(loader: DataLoader) -> Optional[Any]:
    """The sampler of ``loader`` that has ``set_epoch`` (as mmengine's ``DistSamplerSeedHook`` finds it), or None."""
    for sampler in (getattr(loader, 'sampler', None), getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)):
        if hasattr(sampler, 'set_epoch'):
            return sampler
    return None


class _CycledLoader:
    """Endless batches of a loader: pass after pass, each pass reshuffled by ``set_epoch(pass number)``.

    Args:
        loader (DataLoader): The loader to cycle.
        name (str): Its name in messages, e.g. ``'other_loaders[0]'``.
        consumed (int): The number of its batches already trained (by a resumed run): the cycle starts in pass
            ``consumed // len(loader)``, after the ``consumed % len(loader)`` batches of that pass already trained.
    """

    def __init__(self, loader: DataLoader, name: str, consumed: int = 0) -> None:
        self.loader = loader
        self.name = name
        self.length = len(loader)
        self.passes = consumed // self.length  # the number of the pass the next batch comes from
        self._skip = consumed % self.length
        self._iterator: Optional[Iterator] = None

    def _start_pass(self) -> None:
        """Start pass ``self.passes``: set the sampler's epoch, skip the batches a resumed run has trained."""
        sampler = _epoch_sampler(self.loader)
        if sampler is not None:
            sampler.set_epoch(self.passes)
        if self._skip:
            print_log(
                f'resuming {self.name} in its pass {self.passes + 1}: skipping its first {self._skip} of '
                f'{self.length} batches, trained before the checkpoint',
                logger='current')
            self._iterator = iter(skip_batches(self.loader, self._skip))
            self._skip = 0
        else:
            self._iterator = iter(self.loader)

    def next_batch(self) -> Any:
        """The next batch; a loader that has run out starts its next pass."""
        if self._iterator is None:
            self._start_pass()
        try:
            return next(self._iterator)
        except StopIteration:
            pass
        self.passes += 1
        self._start_pass()
        try:
            return next(self._iterator)
        except StopIteration:
            raise RuntimeError(f'{self.name} yielded no batch in its pass {self.passes + 1} although its length is '
                               f'{self.length}: check its dataset and sampler') from None

    def close(self) -> None:
        """Drop the iterator of the current pass (which shuts down its worker processes)."""
        self._iterator = None


@LOOPS.register_module()
class JointEpochBasedTrainLoop(ResumableEpochBasedTrainLoop):
    """Epoch-based training on several loaders at once: each iteration trains one batch of every loader.

    BEVT's joint pretraining (``MultiSourceRunner`` of the official code) in mmengine: the first loader (video)
    defines the epoch, and every iteration passes the tuple ``(video_batch, image_batch, ...)`` to
    ``model.train_step``. mmengine's ``BaseModel.train_step`` runs the data preprocessor on the tuple and calls
    ``model(video_batch, image_batch, ..., mode='loss')``; the hooks get the tuple as ``data_batch``.

    Differences from mmaction2's ``MultiLoaderEpochBasedTrainLoop`` (same arguments), whose epochs end with the
    shortest loader while ``max_iters`` counts the first one's batches (6 video and 2 image batches over 2 epochs
    trained 4 of 12 iterations, cutting iteration-based schedules short):

    - **An epoch is one pass of the first loader** and the run trains exactly
      ``max_iters = max_epochs * len(dataloader)`` iterations.
    - **The other loaders cycle**: one that runs out starts its next pass at once, with ``set_epoch(pass number)``
      on its sampler (0 for the first pass), so each pass is reshuffled. Their passes do not follow the epochs of the
      first loader: a long image loader continues across epochs where it stopped.
    - **Resuming continues where the checkpoint left off** (from :class:`ResumableEpochBasedTrainLoop`): a run
      resumed at iteration ``i`` skips the batches of the first loader's epoch already trained, and each other loader
      (which has given exactly one batch per iteration) starts at batch ``i % len(loader)`` of its pass
      ``i // len(loader)``. With a sampler seeded by epoch (mmengine's ``DefaultSampler``) and loaders of unchanged
      lengths, the resumed run sees the very batches the uninterrupted one would have; otherwise the other loaders'
      order differs (nothing fails).
    - A run resumed at ``max_iters`` trains nothing and says so.

    The official code differs on one point: it restarts the image loader at every video epoch (a fresh pass seeded
    with the video epoch), so an image loader longer than the epoch is only ever read up to the epoch's length (with
    BEVT's 5 x ImageNet-1K and K400, about 30% of each image pass); here it is read to its end.

    Batch sizes are per loader (``batch_size`` of each loader config, e.g. 4 clips and 32 images per forward).
    Elsewhere only the first loader counts: ``runner.train_dataloader``, the epoch length of schedules converted to
    iterations, ``auto_scale_lr``'s batch size and the checks of ``LabelCheckHook`` / ``ClassNamesHook``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The first loader (video), or its config; it defines the epoch.
        other_loaders (sequence of DataLoader or dict): The other loaders (image, ...) or their configs, built with
            ``runner.build_dataloader`` (the runner's seed, and ``diff_rank_seed`` of its ``randomness``). Each needs
            a length of at least one batch and a sampler that ends (not ``InfiniteSampler``).
        max_epochs (int): The number of epochs (passes of the first loader).
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validate every ``val_interval`` epochs. Defaults to 1.
        dynamic_intervals (list of (int, int), optional): ``(epoch, interval)`` milestones that change
            ``val_interval``, as in mmengine's ``EpochBasedTrainLoop``. Defaults to None.

    Raises:
        TypeError: If ``other_loaders`` is not a list or tuple, or one of them is neither a loader nor a dict.
        ValueError: If ``other_loaders`` is empty, a loader has no batch (or no length), or an other loader has an
            ``InfiniteSampler``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 other_loaders: Sequence[Union[DataLoader, Dict]],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        if not isinstance(other_loaders, (list, tuple)):
            hint = ': for one loader write other_loaders=[dict(...)]' if isinstance(other_loaders, dict) else ''
            raise TypeError(f'other_loaders must be a list of loaders or loader configs, got a '
                            f'{type(other_loaders).__name__}{hint}')
        if not other_loaders:
            raise ValueError('other_loaders is empty: the joint loop needs a second loader (for a single loader '
                             'use EpochBasedTrainLoop)')
        for index, loader in enumerate(other_loaders):
            if not isinstance(loader, (DataLoader, dict)):
                raise TypeError(f'other_loaders[{index}] must be a DataLoader or a loader config (dict), got a '
                                f'{type(loader).__name__}')
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval, dynamic_intervals)
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        self.other_loaders: List[DataLoader] = []
        for loader in other_loaders:
            if isinstance(loader, dict):
                loader = runner.build_dataloader(loader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
            self.other_loaders.append(loader)
        self._check_length(self.dataloader, 'the first loader (dataloader)')
        for index, loader in enumerate(self.other_loaders):
            name = f'other_loaders[{index}]'
            self._check_length(loader, name)
            if isinstance(_epoch_sampler(loader), InfiniteSampler):
                raise ValueError(f'{name} has an InfiniteSampler, which never ends a pass: give it a DefaultSampler '
                                 f'(the joint loop cycles it)')
        self._cycles: List[_CycledLoader] = []

    @staticmethod
    def _check_length(loader: DataLoader, name: str) -> None:
        """Raise ``ValueError`` if ``loader`` (called ``name`` in the message) has no length or no batch."""
        try:
            length = len(loader)
        except TypeError:
            raise ValueError(f'{name} has no length (an iterable dataset?): the joint loop needs map-style '
                             f'datasets') from None
        if length == 0:
            dataset = loader.dataset
            size = len(dataset) if hasattr(dataset, '__len__') else '?'
            raise ValueError(f'{name} is empty: {type(dataset).__name__} of {size} samples gives no batch '
                             f'(batch_size={loader.batch_size}, drop_last={loader.drop_last}, on this rank)')

    @property
    def multi_loaders(self) -> List[DataLoader]:
        """All loaders, the first one first (the attribute of mmaction2's loop)."""
        return [self.dataloader, *self.other_loaders]

    def run(self) -> torch.nn.Module:
        """Train the remaining epochs (the other loaders continue at the position of a resumed iteration)."""
        self._cycles = [
            _CycledLoader(loader, f'other_loaders[{index}]', consumed=self._iter)
            for index, loader in enumerate(self.other_loaders)
        ]
        try:
            return super().run()
        finally:
            for cycle in self._cycles:
                cycle.close()
            self._cycles = []

    def _epoch_batches(self) -> Iterator[Tuple[int, tuple]]:
        """``(batch index, (first loader's batch, other loaders' batches...))`` for the rest of this epoch."""
        for idx, first in super()._epoch_batches():
            yield idx, (first, *(cycle.next_batch() for cycle in self._cycles))
