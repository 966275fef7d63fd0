"""An epoch-based training loop that trains each iteration on one batch of a source drawn at random (ALPRO)."""
import math
import random
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_rank, get_world_size
from torch.utils.data import DataLoader

from ...registry import LOOPS
from .joint_loop import _CycledLoader, _epoch_sampler
from .loops import ResumableEpochBasedTrainLoop


def official_epoch_length(loaders: Sequence[DataLoader], ratios: Sequence[float], world_size: int) -> int:
    """Iterations of one epoch of ALPRO's ``MetaLoader``, per rank.

    The official ``MetaLoader`` counts ``n_batches_in_epoch = sum(len(dataset) * ratio / batch_size)`` over its
    loaders (whole datasets, per-GPU batch sizes) and ``run_pretrain_sparse.py`` trains
    ``ceil(n_batches_in_epoch * num_train_epochs / (n_gpu * gradient_accumulation_steps))`` optimizer steps. One epoch
    here is that count for one epoch and without accumulation, rounded up: ``ceil(n_batches_in_epoch / world_size)``.

    Args:
        loaders (Sequence[DataLoader]): The loaders, with their datasets and batch sizes.
        ratios (Sequence[float]): The sampling ratio of each loader.
        world_size (int): The number of processes.

    Returns:
        int: The number of iterations of an epoch on each rank.
    """
    batches = sum(len(loader.dataset) * ratio / loader.batch_size for loader, ratio in zip(loaders, ratios))
    return max(1, math.ceil(batches / world_size))


def _config_names(num_loaders: int) -> List[str]:
    """Where each loader comes from in the config, for messages."""
    return ['dataloader'] + [f'other_loaders[{i}]' for i in range(num_loaders - 1)]


class RandomSourceLoader:
    """What ``runner.train_dataloader`` is under :class:`RandomSourceTrainLoop`: the loaders and the epoch length.

    ``len()`` is the epoch length, so that mmengine's epoch-based schedules (``convert_to_iter_based``), the logger
    (``Epoch(train) [1][i/len]``) and ``end_of_epoch`` count the iterations of this loop. ``dataset`` and
    ``batch_size`` are the first loader's (the dataset's ``metainfo`` goes to the checkpoints). It has no sampler:
    the loop reshuffles each loader itself at each pass. It is not iterable; the loop draws the batches.

    Args:
        loaders (Sequence[DataLoader]): The loaders, the first one first.
        names (Sequence[str]): Their source names.
        ratios (Sequence[float]): Their sampling ratios.
        epoch_length (int): Iterations per epoch.
    """

    def __init__(self, loaders: Sequence[DataLoader], names: Sequence[str], ratios: Sequence[float],
                 epoch_length: int) -> None:
        self.loaders = list(loaders)
        self.names = tuple(names)
        self.ratios = tuple(ratios)
        self.epoch_length = epoch_length

    def __len__(self) -> int:
        return self.epoch_length

    @property
    def dataset(self) -> Any:
        """The first loader's dataset."""
        return self.loaders[0].dataset

    @property
    def batch_size(self) -> Optional[int]:
        """The first loader's batch size."""
        return self.loaders[0].batch_size


@LOOPS.register_module()
class RandomSourceTrainLoop(ResumableEpochBasedTrainLoop):
    """Epoch-based training where each iteration takes one batch of one loader, drawn at random (ALPRO's MetaLoader).

    ALPRO pretrains on WebVid2M videos and CC3M images with ``MetaLoader`` (``src/datasets/dataloader.py``): at each
    step it draws one dataset with ``random.choice`` over the names, each repeated by its ratio (1 in the released
    configs), and trains on a batch of that dataset alone; a loader that runs out starts again. Here:

    - **The draw** of iteration ``i`` depends only on the run's seed (:meth:`shared_seed`: ``runner.seed``, which
      mmengine draws once and shares, less the rank that ``randomness=dict(diff_rank_seed=True)`` adds to it) and
      on ``i // draw_every``: a generator seeded with both picks the source with probabilities proportional to
      ``ratios``. All ranks draw the same source without communicating (the official loader broadcasts rank 0's
      choice at every step), and a resumed run draws the same sequence. As in the official loader, ``draw_every``
      iterations share one draw: the official one draws once per optimizer step, so that the accumulated forwards
      of a step come from one dataset; None takes the optimizer wrapper's ``accumulative_counts``.
    - **Each loader cycles**: it is read pass after pass, each pass reshuffled with ``set_epoch(pass number)`` on
      its sampler (0 first), whatever the epochs.
    - **An epoch** is :func:`official_epoch_length` iterations: ``ceil(sum(len(dataset_i) * ratio_i /
      batch_size_i) / world_size)``, the official ``MetaLoader.n_batches_in_epoch`` per GPU; the run trains
      ``max_iters = max_epochs * epoch_length``. The official run trains ``ceil(n_batches_in_epoch * epochs /
      (n_gpu * accumulation))`` optimizer steps of ``accumulation`` forwards; the two differ by the rounding, fewer
      than ``max_epochs + accumulation`` iterations. ``runner.train_dataloader`` is a :class:`RandomSourceLoader`
      whose ``len()`` is the epoch length, so epoch-based schedules (``convert_to_iter_based=True``) and the logger
      count these iterations.
    - **The log** shows the source of each iteration: ``runner.message_hub`` holds its name as the runtime info
      ``'source'`` (and its index as ``'source_index'``), and the scalar ``train/source_<name>`` is 1 for the drawn
      source and 0 for the others, so the training log shows the fraction of the iterations each source had over
      the logging interval.
    - **Resuming** continues where the checkpoint left off: the draws of the iterations already trained are replayed
      to count the batches each loader gave, and each loader continues after them (in its pass ``n // len(loader)``,
      at batch ``n % len(loader)``, skipping without reading them). With mmengine's ``DefaultSampler`` (seeded per
      pass) the resumed run sees the very batches of the uninterrupted one.

    The loop does not touch the batches: each is one loader's batch, passed to ``model.train_step`` as it is. A
    model that needs to know the source of a batch reads it from its samples (ALPRO's datasets give ``source``:
    ``'video'`` from ``VideoTextRetrievalDataset(source='video')``, ``'image'`` from ``ImageTextDataset``; pack it
    with ``PackActionInputs(algorithm_keys=(..., 'source'))``) or from the message hub.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The first loader (e.g. the videos), or its config.
        other_loaders (sequence of DataLoader or dict): The other loaders (e.g. the images) or their configs, built
            with ``runner.build_dataloader`` (the runner's seed, and ``diff_rank_seed`` of its ``randomness``).
            Every loader needs map-style data, at least one batch and a sampler that ends (not ``InfiniteSampler``).
        max_epochs (int): The number of epochs.
        source_names (sequence of str, optional): A name per loader, the first loader's first, for the log. Defaults
            to ``('source0', 'source1', ...)``.
        ratios (sequence of float, optional): Relative draw probability of each loader (the official ratio). Also
            weights the loader's batches in the epoch length. Defaults to 1 for every loader.
        draw_every (int, optional): Iterations per draw. None takes ``accumulative_counts`` of the optimizer
            wrapper (1 without accumulation). Defaults to None.
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validate every ``val_interval`` epochs. Defaults to 1.
        dynamic_intervals (list of (int, int), optional): ``(epoch, interval)`` milestones that change
            ``val_interval``. Defaults to None.

    Raises:
        TypeError: If ``other_loaders`` is not a list or tuple, or holds something else than loaders and dicts.
        ValueError: If a loader has no length or no batch or an ``InfiniteSampler``, if ``source_names`` or
            ``ratios`` do not give one value per loader, if a name repeats or a ratio is not positive, or if
            ``draw_every`` is below 1.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 other_loaders: Sequence[Union[DataLoader, Dict]],
                 max_epochs: int,
                 source_names: Optional[Sequence[str]] = None,
                 ratios: Optional[Sequence[float]] = None,
                 draw_every: Optional[int] = None,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        if not isinstance(other_loaders, (list, tuple)):
            hint = ': for one loader write other_loaders=[dict(...)]' if isinstance(other_loaders, dict) else ''
            raise TypeError(f'other_loaders must be a list of loaders or loader configs, got a '
                            f'{type(other_loaders).__name__}{hint}')
        for index, loader in enumerate(other_loaders):
            if not isinstance(loader, (DataLoader, dict)):
                raise TypeError(f'other_loaders[{index}] must be a DataLoader or a loader config (dict), got a '
                                f'{type(loader).__name__}')
        if draw_every is not None and (isinstance(draw_every, bool) or not isinstance(draw_every, int)
                                       or draw_every < 1):
            raise ValueError(f'draw_every must be an integer >= 1 or None, got {draw_every!r}')
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval, dynamic_intervals)
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        loaders = [self.dataloader]
        for loader in other_loaders:
            if isinstance(loader, dict):
                loader = runner.build_dataloader(loader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
            loaders.append(loader)
        names = [f'source{i}' for i in range(len(loaders))] if source_names is None else list(source_names)
        ratios = [1.] * len(loaders) if ratios is None else [float(r) for r in ratios]
        self._check(loaders, names, ratios)
        self.draw_every = draw_every
        self.dataloader = RandomSourceLoader(loaders, names, ratios,
                                             official_epoch_length(loaders, ratios, get_world_size()))
        self._max_iters = self._max_epochs * len(self.dataloader)
        self._cycles: List[_CycledLoader] = []
        self._seed: Optional[int] = None
        self._every = 1

    @staticmethod
    def _check(loaders: List[DataLoader], names: List[str], ratios: List[float]) -> None:
        """Raise ``ValueError`` for loaders the loop cannot cycle, or names and ratios that do not fit them."""
        for loader, name in zip(loaders, _config_names(len(loaders))):
            try:
                length = len(loader)
            except TypeError:
                raise ValueError(f'{name} has no length (an iterable dataset?): the random-source loop needs '
                                 f'map-style datasets') from None
            if length == 0:
                raise ValueError(f'{name} is empty: {type(loader.dataset).__name__} of {len(loader.dataset)} '
                                 f'samples gives no batch (batch_size={loader.batch_size}, '
                                 f'drop_last={loader.drop_last}, on this rank)')
            if isinstance(_epoch_sampler(loader), InfiniteSampler):
                raise ValueError(f'{name} has an InfiniteSampler, which never ends a pass: give it a '
                                 f'DefaultSampler (the random-source loop cycles it)')
        if len(names) != len(loaders) or len(set(names)) != len(names):
            raise ValueError(f'source_names must give a distinct name to each of the {len(loaders)} loaders, got '
                             f'{names!r}')
        if len(ratios) != len(loaders) or not all(r > 0 for r in ratios):
            raise ValueError(f'ratios must give a positive ratio to each of the {len(loaders)} loaders, got '
                             f'{ratios!r}')

    @property
    def loaders(self) -> List[DataLoader]:
        """All loaders, the first one first."""
        return self.dataloader.loaders

    @property
    def source_names(self) -> Tuple[str, ...]:
        """The name of each loader's source."""
        return self.dataloader.names

    @property
    def epoch_length(self) -> int:
        """Iterations per epoch (:func:`official_epoch_length`)."""
        return len(self.dataloader)

    def shared_seed(self) -> int:
        """The run's seed, the same on every rank: ``runner.seed`` without the rank ``diff_rank_seed`` adds.

        Returns:
            int: The seed of the draws.
        """
        seed = self.runner.seed
        if self.runner._randomness_cfg.get('diff_rank_seed', False):
            seed -= get_rank()  # mmengine's set_random_seed added it
        return seed

    def draw(self, iteration: int, seed: Optional[int] = None, draw_every: Optional[int] = None) -> int:
        """The index of the loader that trains iteration ``iteration`` (from 0).

        Args:
            iteration (int): The iteration.
            seed (int, optional): The run's seed. Defaults to :meth:`shared_seed`.
            draw_every (int, optional): Iterations per draw. Defaults to the loop's (resolved when training).

        Returns:
            int: An index into :attr:`loaders`.
        """
        seed = self.shared_seed() if seed is None else seed
        every = draw_every or self.draw_every or self._every
        generator = random.Random(f'{seed}/{iteration // every}')  # str seeds are hashed (SHA-512): stable
        return generator.choices(range(len(self.loaders)), weights=self.dataloader.ratios)[0]

    def _accumulative_counts(self) -> int:
        optim_wrapper = getattr(self.runner, 'optim_wrapper', None)
        return int(getattr(optim_wrapper, '_accumulative_counts', 1) or 1)

    def run(self) -> torch.nn.Module:
        """Train the remaining epochs; each loader continues after the batches the draws so far gave it."""
        self._seed = self.shared_seed()
        self._every = self.draw_every or self._accumulative_counts()
        consumed = [0] * len(self.loaders)
        for iteration in range(min(self._iter, self._max_iters)):
            consumed[self.draw(iteration, self._seed, self._every)] += 1
        where = _config_names(len(self.loaders))
        self._cycles = [
            _CycledLoader(loader, f'{name} ({key})', consumed=count)
            for loader, name, key, count in zip(self.loaders, self.source_names, where, consumed)
        ]
        try:
            return super().run()
        finally:
            for cycle in self._cycles:
                cycle.close()
            self._cycles = []

    def _epoch_batches(self) -> Iterator[Tuple[int, Any]]:
        """``(batch index, batch)`` for the rest of this epoch, each batch from the source drawn for its iteration."""
        start = self._epoch * self.epoch_length
        done = min(max(self._iter - start, 0), self.epoch_length)
        message_hub = self.runner.message_hub
        for idx in range(done, self.epoch_length):
            index = self.draw(start + idx, self._seed, self._every)
            name = self.source_names[index]
            message_hub.update_info('source', name)
            message_hub.update_info('source_index', index)
            for other in self.source_names:
                message_hub.update_scalar(f'train/source_{other}', float(other == name))
            yield idx, self._cycles[index].next_batch()
