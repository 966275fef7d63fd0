"""JointEpochBasedTrainLoop on a toy video + image model, in one process: every iteration trains one batch of each
loader, the run trains max_iters iterations (mmaction2's loop stops each epoch at the shortest loader), the image
loader cycles with reshuffling, an iteration schedule runs to its end, and a crashed run resumes where it stopped."""
import math
import os.path as osp
import uuid
from typing import List, Optional

import pytest
import torch
import torch.nn as nn
from mmaction.engine.runner import MultiLoaderEpochBasedTrainLoop
from mmaction.structures import ActionDataSample
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

import videoalign  # noqa: F401  (registers the loop)
from videoalign.engine import VideoAlignRunner
from videoalign.engine.hooks import SkippedVideoHook
from videoalign.engine.runner import JointEpochBasedTrainLoop
from videoalign.registry import LOOPS

BASE_LR, ETA_MIN, MAX_ITERS = 0.1, 0.001, 12  # 6 video batches per epoch, 2 epochs


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


class JointToyModel(BaseModel):
    """Records, for every training forward, the kind (by input shape) and sample indices of each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.calls: List[tuple] = []

    def forward(self, *batches, mode: str = 'tensor'):
        if mode == 'loss':
            self.calls.append(
                tuple(('video' if batch['inputs'][0].dim() == 2 else 'image', [int(i) for i in batch['data_samples']])
                      for batch in batches))
        loss = sum((self.weight * torch.stack(batch['inputs']).mean() / 10).pow(2) for batch in batches)
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
            loop=JointEpochBasedTrainLoop.__name__,
            other_loaders=None,
            videos: Optional[dict] = None,
            checkpoint: Optional[dict] = None,
            **kwargs) -> VideoAlignRunner:
    """6 batches of 2 clips + 2 batches of 4 images per pass, 2 epochs, a cosine LR schedule over 12 iterations."""
    return VideoAlignRunner(
        model=JointToyModel(),
        work_dir=work_dir,
        experiment_name=f'joint-{uuid.uuid4().hex}',
        train_dataloader=videos or _loader(ToyVideos(12), 2),
        train_cfg=dict(
            type=loop,
            other_loaders=[_loader(ToyImages(8), 4)] if other_loaders is None else other_loaders,
            max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=BASE_LR)),
        param_scheduler=dict(
            type='CosineAnnealingLR', T_max=MAX_ITERS, eta_min=ETA_MIN, by_epoch=False, begin=0, end=MAX_ITERS),
        default_hooks=dict(
            checkpoint=dict(dict(type='CheckpointHook', interval=1), **(checkpoint or {})),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='SkippedVideoHook'), *kwargs.pop('custom_hooks', [])],
        default_scope='videoalign',
        randomness=dict(seed=0),
        **kwargs)


class _Recorder(Hook):
    """Records the learning rate and the kinds of ``data_batch`` of every training iteration."""

    def __init__(self) -> None:
        self.lrs: List[float] = []
        self.batches: List[tuple] = []

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.batches.append((type(data_batch).__name__, len(data_batch), batch_idx))


def _spy_set_epoch(loader) -> List[int]:
    epochs: List[int] = []
    set_epoch = loader.sampler.set_epoch

    def recording(epoch: int) -> None:
        epochs.append(epoch)
        set_epoch(epoch)

    loader.sampler.set_epoch = recording
    return epochs


def _cosine(step: int) -> float:
    """The LR of iteration ``step`` (from 0) of the schedule."""
    return ETA_MIN + (BASE_LR - ETA_MIN) * (1 + math.cos(math.pi * step / MAX_ITERS)) / 2


LAST_LR = _cosine(MAX_ITERS - 1)  # the schedule's last value (mmengine steps it no further at its end)


def test_the_loop_is_registered():
    assert LOOPS.get('JointEpochBasedTrainLoop') is JointEpochBasedTrainLoop


def test_every_iteration_trains_one_batch_of_each_loader(tmp_path):
    runner = _runner(str(tmp_path))
    loop = runner.train_loop
    assert isinstance(loop, JointEpochBasedTrainLoop) and loop.max_iters == MAX_ITERS
    assert [len(loader) for loader in loop.multi_loaders] == [6, 2]
    image_epochs = _spy_set_epoch(loop.other_loaders[0])
    recorder = _Recorder()
    runner.register_hook(recorder)
    runner.train()

    calls = runner.model.calls
    assert runner.iter == loop.iter == MAX_ITERS and runner.epoch == 2 and len(calls) == MAX_ITERS
    # each forward gets (video batch of 2 clips, image batch of 4 images), the hooks the same tuple
    assert [[(kind, len(indices)) for kind, indices in call] for call in calls] == [[('video', 2), ('image', 4)]] * 12
    assert recorder.batches == [('tuple', 2, idx) for idx in range(6)] * 2
    # the video loader defines the epoch: each epoch is one pass over the 12 clips
    for epoch in range(2):
        assert sorted(i for call in calls[6 * epoch:6 * epoch + 6] for i in call[0][1]) == list(range(12))
    # the image loader cycles: 6 passes of 2 batches, each over the 8 images, reshuffled by set_epoch(pass)
    passes = [[i for call in calls[2 * p:2 * p + 2] for i in call[1][1]] for p in range(6)]
    assert all(sorted(order) == list(range(8)) for order in passes)
    assert image_epochs == [0, 1, 2, 3, 4, 5]
    assert len({tuple(order) for order in passes}) > 1
    # the iteration schedule runs to its end
    assert recorder.lrs == pytest.approx([_cosine(step) for step in range(MAX_ITERS)])
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(LAST_LR)
    log = open(osp.join(runner.log_dir, f'{osp.basename(runner.log_dir)}.log')).read()
    assert 'Epoch(train) [2][6/6]' in log  # mmengine's logger and timer hooks take the tuple


def test_mmaction_loop_truncates_the_schedule(tmp_path):
    """The defect the joint loop fixes: mmaction2's loop stops each epoch at the shortest loader (the image one)."""
    runner = _runner(str(tmp_path), loop=MultiLoaderEpochBasedTrainLoop)
    runner.train()
    assert runner.train_loop.max_iters == MAX_ITERS
    assert runner.iter == len(runner.model.calls) == 4  # not 12
    # the cosine schedule stopped a third of the way, at the LR of its iteration 5
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(_cosine(4)) and _cosine(4) > 20 * LAST_LR


class _Crash(Hook):

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            raise RuntimeError('simulated crash')


def test_resume_after_a_crash_continues_both_loaders(tmp_path):
    reference = _runner(str(tmp_path / 'reference'))
    reference.train()
    work_dir = str(tmp_path / 'crashed')
    crashed = _runner(
        work_dir, checkpoint=dict(by_epoch=False, interval=5), custom_hooks=[dict(type=_Crash, at_iter=7)])
    with pytest.raises(RuntimeError, match='simulated crash'):
        crashed.train()
    assert len(crashed.model.calls) == 7  # iter_5.pth is the last checkpoint: 5 of 6 batches of epoch 1 are done
    resumed = _runner(work_dir, resume=True)
    recorder = _Recorder()
    resumed.register_hook(recorder)
    resumed.train()
    assert resumed.iter == MAX_ITERS and len(resumed.model.calls) == MAX_ITERS - 5
    assert [idx for _, _, idx in recorder.batches] == [5] + list(range(6))
    # the very batches of the uninterrupted run: the video epoch continues at its batch 6 of 6, the image loader
    # (5 batches trained: 2 passes and 1 batch) at batch 2 of its pass 3
    assert resumed.model.calls == reference.model.calls[5:]
    assert recorder.lrs == pytest.approx([_cosine(step) for step in range(5, MAX_ITERS)])
    assert resumed.optim_wrapper.get_lr()['lr'][0] == pytest.approx(LAST_LR)


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    work_dir = str(tmp_path)
    _runner(work_dir).train()
    resumed = _runner(work_dir, resume=True)
    resumed.train()
    assert resumed.iter == MAX_ITERS and resumed.model.calls == []


@pytest.mark.parametrize(
    'other_loaders, error, message', [
        (_loader(ToyImages(8), 4), TypeError, r'must be a list .* got a dict: for one loader write other_loaders=\['),
        ('images', TypeError, 'must be a list of loaders or loader configs, got a str'),
        ([], ValueError, 'other_loaders is empty'),
        (['images'], TypeError, r'other_loaders\[0\] must be a DataLoader or a loader config'),
        ([_loader(ToyImages(8), 4), _loader(ToyImages(3), 4, drop_last=True)], ValueError,
         r'other_loaders\[1\] is empty: ToyImages of 3 samples gives no batch \(batch_size=4, drop_last=True'),
        ([dict(_loader(ToyImages(8), 4), sampler=dict(type='InfiniteSampler'))
          ], ValueError, r'other_loaders\[0\] has an InfiniteSampler'),
    ],
    ids=['dict', 'str', 'empty-list', 'not-a-loader', 'empty-loader', 'infinite-sampler'])
def test_clear_errors(tmp_path, other_loaders, error, message):
    with pytest.raises(error, match=message):
        _runner(str(tmp_path), other_loaders=other_loaders).train_loop  # noqa: B018  (builds the loop)


def test_empty_first_loader_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r'the first loader \(dataloader\) is empty'):
        _runner(str(tmp_path), videos=_loader(ToyVideos(1), 2, drop_last=True)).train_loop  # noqa: B018


def test_skipped_video_hook_reads_every_batch_of_a_tuple(tmp_path):
    runner = _runner(str(tmp_path))
    hook = SkippedVideoHook()

    def batch(skipped: list) -> dict:
        sample = ActionDataSample().set_gt_label(0)
        sample.set_metainfo(dict(skipped_videos=skipped))
        return dict(inputs=[torch.zeros(1)], data_samples=[sample])

    hook.after_train_iter(runner, 0, (batch(['v/bad.mp4']), batch(['i/bad.jpg'])))
    assert hook.skipped == ['v/bad.mp4', 'i/bad.jpg']
    hook.after_train_iter(runner, 1, (dict(inputs=[torch.zeros(1)], data_samples=[torch.tensor(0)]), None))
    assert hook.skipped == ['v/bad.mp4', 'i/bad.jpg']  # samples without metainfo, and non-dict items, are skipped
