"""VideoAlignRunner on a toy model, in one process: atomic checkpoints, safe clean-up, the work-dir lock,
resuming past corrupt checkpoints, strict loading and the executable config string of a checkpoint."""
import os
import os.path as osp
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from videoalign.engine import VideoAlignRunner, WorkDirInUseError, WorkDirLock
from videoalign.engine.hooks import SafeCheckpointHook
from videoalign.engine.runner import ResumableEpochBasedTrainLoop


class ToyModel(BaseModel):

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(width, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=(out - torch.stack(data_samples)).pow(2).mean())
        return out


class ToyDataset(Dataset):
    metainfo = dict(classes=('a', ))

    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.full((2, ), float(index)), data_samples=torch.tensor([float(index % 3)]))


def _runner(work_dir: str, max_epochs: int = 2, checkpoint: dict = None, **kwargs) -> VideoAlignRunner:
    return VideoAlignRunner(
        model=kwargs.pop('model', ToyModel()),
        work_dir=work_dir,
        experiment_name=f'toy-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=3,
            num_workers=0,
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(dict(type='CheckpointHook', interval=1), **(checkpoint or {})),
            logger=dict(type='LoggerHook', interval=1)),
        default_scope='videoalign',
        randomness=dict(seed=0),
        **kwargs)


def test_safe_components_replace_mmengine_defaults(tmp_path):
    runner = _runner(str(tmp_path))
    assert any(isinstance(hook, SafeCheckpointHook) for hook in runner.hooks)
    assert 'LabelCheckHook' in [type(hook).__name__ for hook in runner.hooks]
    runner.train()
    assert isinstance(runner.train_loop, ResumableEpochBasedTrainLoop)
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['epoch_1.pth', 'epoch_2.pth']
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def test_checkpoint_write_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    runner = _runner(str(tmp_path), max_epochs=2)
    from mmengine.fileio.backends import LocalBackend
    put = LocalBackend.put

    def full_disk(self, obj, filepath):
        if 'epoch_2' in str(filepath):
            with open(filepath, 'wb') as f:  # half of the file makes it to disk, then the disk is full
                f.write(obj[:len(obj) // 2])
            raise OSError(28, 'No space left on device')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', full_disk)
    with pytest.raises(OSError, match=r'cannot write the checkpoint .*epoch_2\.pth.*No space left'):
        runner.train()
    names = os.listdir(tmp_path)
    assert 'epoch_1.pth' in names and 'epoch_2.pth' not in names
    assert not [n for n in names if n.endswith('.tmp')], names  # the partial temporary file is removed
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_1.pth')  # still points at a whole checkpoint


def test_old_checkpoints_are_deleted_only_after_the_new_one_exists(tmp_path, monkeypatch):
    runner = _runner(str(tmp_path), max_epochs=3, checkpoint=dict(max_keep_ckpts=1))
    save = VideoAlignRunner.save_checkpoint
    seen = []

    def checking_save(self, out_dir, filename, *args, **kwargs):
        seen.append(sorted(n for n in os.listdir(out_dir) if n.endswith('.pth')))
        return save(self, out_dir, filename, *args, **kwargs)

    monkeypatch.setattr(VideoAlignRunner, 'save_checkpoint', checking_save)
    runner.train()
    # when epoch N is saved, epoch N-1 is still there (mmengine removed it before saving)
    assert seen == [[], ['epoch_1.pth'], ['epoch_2.pth']]
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['epoch_3.pth']


def test_best_checkpoint_survives_a_failed_save_of_the_next_best(tmp_path, monkeypatch):
    hook = SafeCheckpointHook(interval=1, save_best='acc', rule='greater')
    runner = _runner(str(tmp_path), max_epochs=1)
    hook.before_train(runner)
    runner.message_hub.update_info('epoch', 0)
    hook.after_val_epoch(runner, dict(acc=0.5))
    (first_best, ) = [n for n in os.listdir(tmp_path) if n.startswith('best_')]

    def fail(*args, **kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(runner, 'save_checkpoint', fail)
    with pytest.raises(OSError):
        hook.after_val_epoch(runner, dict(acc=0.9))
    assert osp.isfile(tmp_path / first_best)  # mmengine's hook deletes it before saving the new best


def test_resume_mid_epoch_runs_the_remaining_batches_only(tmp_path):
    work_dir = str(tmp_path)
    _runner(work_dir, max_epochs=2, checkpoint=dict(by_epoch=False, interval=3)).train()  # 4 iterations per epoch
    resumed = _runner(work_dir, max_epochs=2, resume=True, load_from=osp.join(work_dir, 'iter_6.pth'))
    seen = []
    resumed.register_hook(_BatchRecorder(seen))
    resumed.train()
    # iteration 6 is the 2nd batch of epoch 2: batches 3 and 4 of that epoch remain (mmengine reran all 4)
    assert seen == [(1, 2), (1, 3)] and resumed.train_loop.iter == 8


class _BatchRecorder(Hook):
    """Records ``(epoch, batch index)`` of every training iteration."""

    def __init__(self, seen: list) -> None:
        self.seen = seen

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.seen.append((runner.epoch, batch_idx))


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    work_dir = str(tmp_path)
    _runner(work_dir, max_epochs=2, checkpoint=dict(by_epoch=False, interval=8)).train()
    resumed = _runner(work_dir, max_epochs=2, resume=True)
    seen = []
    resumed.register_hook(_BatchRecorder(seen))
    resumed.train()
    assert seen == [] and resumed.train_loop.iter == 8


def test_auto_resume_falls_back_past_a_corrupt_checkpoint(tmp_path, caplog):
    work_dir = str(tmp_path)
    _runner(work_dir, max_epochs=2).train()
    with open(osp.join(work_dir, 'epoch_2.pth'), 'r+b') as f:
        f.truncate(100)  # the newest checkpoint, named by last_checkpoint, is cut short
    resumed = _runner(work_dir, max_epochs=3, resume=True)
    resumed.train()
    assert resumed.train_loop.epoch == 3 and resumed.train_loop.iter == 12  # epoch 2 again (from epoch_1), then 3
    log = open(resumed.log_dir + f'/{osp.basename(resumed.log_dir)}.log').read()
    assert f'cannot resume from {osp.join(work_dir, "epoch_2.pth")}' in log
    assert f'Auto resumed from the latest checkpoint {osp.join(work_dir, "epoch_1.pth")}' in log


def test_auto_resume_without_checkpoint_warns_loudly(tmp_path):
    resumed = _runner(str(tmp_path / 'misspelt'), max_epochs=1, resume=True)
    resumed.train()
    log = open(resumed.log_dir + f'/{osp.basename(resumed.log_dir)}.log').read()
    assert 'nothing to resume in the work dir' in log and 'check --work-dir' in log


def test_work_dir_lock_refuses_a_second_run(tmp_path):
    with WorkDirLock(str(tmp_path)):
        with pytest.raises(WorkDirInUseError, match=rf'in use by another training run \(pid {os.getpid()} on'):
            _runner(str(tmp_path), max_epochs=1).train()
    _runner(str(tmp_path), max_epochs=1).train()  # released: the next run goes ahead


def test_strict_load_lists_the_keys(tmp_path):
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'linear.weight': torch.zeros(1, 2), 'head.weight': torch.zeros(1)}}, other)
    runner = _runner(str(tmp_path / 'w'), load_from=other)
    runner.load_strict = True
    with pytest.raises(RuntimeError, match=r'(?s)does not fit the model.*head\.weight.*linear\.bias.*--non-strict'):
        runner.load_or_resume()
    lenient = _runner(str(tmp_path / 'w2'), load_from=other)
    lenient.load_or_resume()  # the training default stays non-strict (fine-tuning from another model)


def test_checkpoint_config_string_is_never_executed(tmp_path):
    work_dir = str(tmp_path)
    _runner(work_dir, max_epochs=1).train()
    path = osp.join(work_dir, 'epoch_1.pth')
    checkpoint = torch.load(path, weights_only=False)
    marker = tmp_path / 'config_ran'
    checkpoint['meta']['config'] = f'x = __import__("pathlib").Path({str(marker)!r}).touch()\ngpu_ids = [0]\n'
    torch.save(checkpoint, path)
    plain = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path / 'plain'),
        experiment_name=f'toy-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler'),
            batch_size=3,
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)))
    plain.train_loop  # noqa: B018  (builds the loop that resume fills)
    plain.optim_wrapper = plain.build_optim_wrapper(plain.optim_wrapper)
    plain.resume(path)
    assert marker.exists()  # the defect: mmengine's resume executes meta['config']
    marker.unlink()
    _runner(work_dir, max_epochs=2, resume=True).train()
    assert not marker.exists()
