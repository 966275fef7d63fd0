"""RandomSourceTrainLoop on a toy video + image model: each iteration trains one batch of a source drawn at random
(the same on every rank, without communication), the loaders cycle, an epoch is the official MetaLoader count, epoch
schedules and the log count these iterations, and a crashed run resumes with the same draws and batches."""
import json
import math
import os
import os.path as osp
import uuid
from types import SimpleNamespace
from typing import List, Optional

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

import videoalign  # noqa: F401  (registers the loop)
from videoalign.engine import VideoAlignRunner
from videoalign.engine.runner import RandomSourceLoader, RandomSourceTrainLoop, official_epoch_length
from videoalign.registry import LOOPS
from videoalign.testing import free_port

EPOCH_LENGTH, MAX_EPOCHS = 8, 2  # ceil(12 clips / 2 + 8 images / 4)
MAX_ITERS = EPOCH_LENGTH * MAX_EPOCHS


class ToyVideos(Dataset):
    """Clips of 2 frames of 3 values (inputs of shape (2, 3)); the data sample is the clip's index."""
    metainfo = dict(classes=('a', ))

    def __init__(self, size: int = 12) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.full((2, 3), float(index)), data_samples=torch.tensor(index))


class ToyImages(ToyVideos):
    """Images of 3 values (inputs of shape (3, )); the data sample is the image's index."""

    def __init__(self, size: int = 8) -> None:
        super().__init__(size)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.full((3, ), float(index)), data_samples=torch.tensor(index))


class ToyModel(BaseModel):
    """Records, for every training forward, the kind of its batch (by input shape) and the sample indices."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.calls: List[tuple] = []

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            self.calls.append(('video' if inputs[0].dim() == 2 else 'image', [int(i) for i in data_samples]))
        loss = (self.weight * torch.stack(inputs).mean() / 10).pow(2)
        return dict(loss=loss) if mode == 'loss' else loss


def _loader(dataset: Dataset, batch_size: int, **kwargs) -> dict:
    return dict(
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=True),
        batch_size=batch_size,
        num_workers=0,
        collate_fn=dict(type='pseudo_collate'),
        **kwargs)


def _runner(work_dir: str,
            loop: Optional[dict] = None,
            videos: Optional[dict] = None,
            checkpoint: Optional[dict] = None,
            optim_wrapper: Optional[dict] = None,
            **kwargs) -> VideoAlignRunner:
    """Batches of 2 clips (6 per pass) or 4 images (2 per pass), 2 epochs of 8 iterations, a warm-up of 1 epoch."""
    train_cfg = dict(
        type='RandomSourceTrainLoop',
        other_loaders=[_loader(ToyImages(8), 4)],
        source_names=('video', 'image'),
        max_epochs=MAX_EPOCHS)
    train_cfg.update(loop or {})
    return VideoAlignRunner(
        model=ToyModel(),
        work_dir=work_dir,
        experiment_name=f'random-source-{uuid.uuid4().hex}',
        train_dataloader=videos or _loader(ToyVideos(12), 2),
        train_cfg=train_cfg,
        optim_wrapper=optim_wrapper or dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=dict(
            type='LinearLR', start_factor=0.5, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
        default_hooks=dict(
            checkpoint=dict(dict(type='CheckpointHook', interval=1), **(checkpoint or {})),
            logger=dict(type='LoggerHook', interval=1)),
        default_scope='videoalign',
        randomness=dict(seed=kwargs.pop('seed', 0), diff_rank_seed=kwargs.pop('diff_rank_seed', False)),
        **kwargs)


class _Recorder(Hook):
    """Records the learning rate, the batch index and the message hub's source of every training iteration."""

    def __init__(self) -> None:
        self.lrs: List[float] = []
        self.indices: List[int] = []
        self.sources: List[str] = []

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])
        self.indices.append(batch_idx)
        self.sources.append(runner.message_hub.get_info('source'))


def _spy_set_epoch(loader) -> List[int]:
    epochs: List[int] = []
    set_epoch = loader.sampler.set_epoch

    def recording(epoch: int) -> None:
        epochs.append(epoch)
        set_epoch(epoch)

    loader.sampler.set_epoch = recording
    return epochs


def _passes(indices: List[int], size: int) -> List[List[int]]:
    """The sample indices of consecutive passes of ``size`` samples."""
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def test_the_loop_is_registered():
    assert LOOPS.get('RandomSourceTrainLoop') is RandomSourceTrainLoop


def test_official_epoch_length():
    # MetaLoader: n_batches_in_epoch = sum(len(dataset) * ratio / batch_size), per GPU: / n_gpu, rounded up
    webvid = SimpleNamespace(dataset=range(2_490_000), batch_size=16)
    cc3m = SimpleNamespace(dataset=range(2_800_000), batch_size=16)
    assert official_epoch_length([webvid, cc3m], [1, 1], 16) == math.ceil((2_490_000 + 2_800_000) / 16 / 16) == 20665
    assert official_epoch_length([webvid, cc3m], [1, 2], 8) == math.ceil((2_490_000 + 2 * 2_800_000) / 16 / 8)
    assert official_epoch_length([SimpleNamespace(dataset=range(3), batch_size=4)], [1], 2) == 1


def test_each_iteration_trains_one_batch_of_the_drawn_source(tmp_path):
    runner = _runner(str(tmp_path))
    loop = runner.train_loop
    assert isinstance(loop, RandomSourceTrainLoop) and loop.source_names == ('video', 'image')
    assert loop.epoch_length == EPOCH_LENGTH and loop.max_iters == MAX_ITERS
    # runner.train_dataloader is the loop's view: its length is the epoch, its dataset the first loader's
    assert isinstance(runner.train_dataloader, RandomSourceLoader) and len(runner.train_dataloader) == EPOCH_LENGTH
    assert isinstance(runner.train_dataloader.dataset, ToyVideos) and runner.train_dataloader.batch_size == 2
    video_epochs, image_epochs = (_spy_set_epoch(loader) for loader in loop.loaders)
    recorder = _Recorder()
    runner.register_hook(recorder)
    runner.train()

    calls = runner.model.calls
    assert runner.iter == MAX_ITERS and runner.epoch == MAX_EPOCHS and len(calls) == MAX_ITERS
    # each forward gets one batch of one source: the one drawn for its iteration, also in the message hub
    drawn = [loop.source_names[loop.draw(i)] for i in range(MAX_ITERS)]
    assert [kind for kind, _ in calls] == drawn == recorder.sources
    assert {len(indices) for kind, indices in calls if kind == 'video'} <= {2}
    assert {len(indices) for kind, indices in calls if kind == 'image'} <= {4}
    assert recorder.indices == list(range(EPOCH_LENGTH)) * MAX_EPOCHS
    # each loader cycles: its passes cover its dataset, reshuffled by set_epoch(pass)
    for kind, size, epochs in (('video', 12, video_epochs), ('image', 8, image_epochs)):
        indices = [i for k, batch in calls if k == kind for i in batch]
        passes = _passes(indices, size)
        assert all(sorted(p) == list(range(size)) for p in passes[:-1]) and len(set(passes[-1])) == len(passes[-1])
        assert epochs == list(range(len(passes)))
    # the epoch schedule counts the loop's epochs (8 iterations), not the first loader's 6 batches: mmengine's LinearLR
    # reaches its end factor at the last iteration of its range, here iteration 7 (at 5 with 6-batch epochs)
    assert recorder.lrs == pytest.approx([0.1 * (0.5 + 0.5 * min(i, 7) / 7) for i in range(MAX_ITERS)])
    log = open(osp.join(runner.log_dir, f'{osp.basename(runner.log_dir)}.log')).read()
    assert f'Epoch(train) [2][{EPOCH_LENGTH}/{EPOCH_LENGTH}]' in log
    assert 'source_video: ' in log and 'source_image: ' in log


def test_draws_are_uniform_and_follow_ratios_and_seed(tmp_path):
    loop = _runner(str(tmp_path)).train_loop
    n = 20000
    draws = [loop.draw(i, seed=0, draw_every=1) for i in range(n)]
    assert abs(draws.count(1) - n / 2) < 4 * math.sqrt(n / 4)  # ratio 1 : 1, as random.choice over two names
    assert draws == [loop.draw(i, seed=0, draw_every=1) for i in range(n)]  # a function of (seed, iteration)
    other = [loop.draw(i, seed=1, draw_every=1) for i in range(n)]
    assert other != draws and abs(other.count(1) - n / 2) < 4 * math.sqrt(n / 4)
    # no pattern between consecutive draws
    same = sum(a == b for a, b in zip(draws, draws[1:]))
    assert abs(same - (n - 1) / 2) < 4 * math.sqrt(n / 4)
    weighted = _runner(str(tmp_path / 'weighted'), loop=dict(ratios=(1, 3))).train_loop
    draws = [weighted.draw(i, seed=0, draw_every=1) for i in range(n)]
    assert abs(draws.count(1) - 0.75 * n) < 4 * math.sqrt(n * 0.75 * 0.25)
    assert weighted.epoch_length == math.ceil(12 / 2 + 3 * 8 / 4)


def test_accumulated_forwards_share_a_source(tmp_path):
    """As the official MetaLoader, a draw holds for the forwards of one optimizer step (accumulative_counts)."""
    runner = _runner(str(tmp_path), optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1), accumulative_counts=2))
    runner.train()
    kinds = [kind for kind, _ in runner.model.calls]
    assert kinds[0::2] == kinds[1::2] and len(set(kinds[0::2])) == 2
    loop = runner.train_loop
    assert kinds == [loop.source_names[loop.draw(i, draw_every=2)] for i in range(MAX_ITERS)]
    explicit = _runner(str(tmp_path / 'explicit'), loop=dict(draw_every=4))
    explicit.train()
    kinds = [kind for kind, _ in explicit.model.calls]
    assert all(len(set(kinds[i:i + 4])) == 1 for i in range(0, MAX_ITERS, 4))


class _Crash(Hook):

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            raise RuntimeError('simulated crash')


def test_resume_reproduces_the_draws_and_the_batches(tmp_path):
    reference = _runner(str(tmp_path / 'reference'))
    reference.train()
    work_dir = str(tmp_path / 'crashed')
    crashed = _runner(
        work_dir, checkpoint=dict(by_epoch=False, interval=5), custom_hooks=[dict(type=_Crash, at_iter=11)])
    with pytest.raises(RuntimeError, match='simulated crash'):
        crashed.train()
    assert crashed.model.calls == reference.model.calls[:11]
    resumed = _runner(work_dir, resume=True)  # iter_10.pth: epoch 2 at its batch 3 of 8
    recorder = _Recorder()
    resumed.register_hook(recorder)
    resumed.train()
    assert resumed.iter == MAX_ITERS and recorder.indices == list(range(2, EPOCH_LENGTH))
    # the same sources, and within each source the batches the uninterrupted run read
    assert resumed.model.calls == reference.model.calls[10:]
    assert recorder.lrs == pytest.approx([0.1] * (MAX_ITERS - 10))


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    work_dir = str(tmp_path)
    _runner(work_dir).train()
    resumed = _runner(work_dir, resume=True)
    resumed.train()
    assert resumed.iter == MAX_ITERS and resumed.model.calls == []


def test_one_loader_cycles_alone(tmp_path):
    runner = _runner(str(tmp_path), loop=dict(other_loaders=[], source_names=('video', )))
    assert runner.train_loop.epoch_length == 6
    runner.train()
    assert [kind for kind, _ in runner.model.calls] == ['video'] * 12


@pytest.mark.parametrize(
    'loop, error, message', [
        (dict(other_loaders=_loader(ToyImages(8), 4)), TypeError, r'must be a list .* for one loader write'),
        (dict(other_loaders=['images']), TypeError, r'other_loaders\[0\] must be a DataLoader or a loader config'),
        (dict(other_loaders=[_loader(ToyImages(3), 4, drop_last=True)]), ValueError,
         r'other_loaders\[0\] is empty: ToyImages of 3 samples gives no batch'),
        (dict(other_loaders=[dict(_loader(ToyImages(8), 4), sampler=dict(type='InfiniteSampler'))]), ValueError,
         r'other_loaders\[0\] has an InfiniteSampler'),
        (dict(source_names=('video', )), ValueError, 'source_names must give a distinct name to each of the 2'),
        (dict(source_names=('a', 'a')), ValueError, 'source_names must give a distinct name'),
        (dict(ratios=(1, 0)), ValueError, 'ratios must give a positive ratio to each of the 2 loaders'),
        (dict(draw_every=0), ValueError, 'draw_every must be an integer >= 1 or None'),
    ],
    ids=['dict', 'not-a-loader', 'empty', 'infinite', 'names-count', 'names-repeat', 'ratio', 'draw-every'])
def test_clear_errors(tmp_path, loop, error, message):
    with pytest.raises(error, match=message):
        _runner(str(tmp_path), loop=loop).train_loop  # noqa: B018  (builds the loop)


# ----------------------------------------------------------------------------------------------------------------------
# two gloo ranks: the same draws, without communication

COLLECTIVES = ('broadcast', 'all_reduce', 'all_gather', 'all_gather_object', 'broadcast_object_list', 'gather',
               'scatter', 'reduce', 'barrier', 'send', 'recv')


def _dist_worker(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        # diff_rank_seed: each rank's runner.seed (and data augmentation) differs, the draws must not
        runner = _runner(osp.join(out_dir, f'rank{rank}'), diff_rank_seed=True)
        runner.train()
        loop = runner.train_loop

        def refuse(*args, **kwargs):
            raise AssertionError('the draws communicated')

        originals = {name: getattr(dist, name) for name in COLLECTIVES}
        for name in COLLECTIVES:
            setattr(dist, name, refuse)
        try:
            draws = [loop.draw(i) for i in range(1000)]
        finally:
            for name, function in originals.items():
                setattr(dist, name, function)
        result = dict(
            seed=runner.seed,
            epoch_length=loop.epoch_length,
            kinds=[kind for kind, _ in runner.model.calls],
            indices=[indices for _, indices in runner.model.calls],
            draws=draws)
        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
    finally:
        dist.destroy_process_group()


def test_two_ranks_draw_the_same_sources_without_communication(tmp_path):
    mp.spawn(_dist_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    results = []
    for rank in range(2):
        with open(os.path.join(str(tmp_path), f'rank{rank}.json')) as f:
            results.append(json.load(f))
    first, second = results
    assert (first['seed'], second['seed']) == (0, 1)  # mmengine's seed + rank
    # per rank: ceil((12 / 2 + 8 / 4) / 2 ranks) iterations an epoch
    assert first['epoch_length'] == second['epoch_length'] == 4
    assert len(first['kinds']) == 8 and first['kinds'] == second['kinds'] == [('video', 'image')[d]
                                                                              for d in first['draws'][:8]]
    assert first['draws'] == second['draws'] and 0.4 < sum(first['draws']) / 1000 < 0.6
    # each rank reads its own half of each dataset (DefaultSampler), so the batches differ
    assert first['indices'] != second['indices']
