"""Tests of SkippedVideoHook and WeightSyncCheckHook with a fake runner on one process."""
import types
import uuid
from unittest import mock

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.logging import MessageHub

from videoalign.engine.hooks import SkippedVideoHook, WeightSyncCheckHook, state_checksum, weight_sync_check_hook


def _runner(tmp_path, epoch: int = 0, max_epochs: int = 3, model=None):
    return types.SimpleNamespace(
        logger=mock.MagicMock(),
        message_hub=MessageHub.get_instance(f'test-hooks-{uuid.uuid4().hex}'),
        iter=6,
        epoch=epoch,
        train_loop=types.SimpleNamespace(max_epochs=max_epochs),
        max_epochs=max_epochs,
        work_dir=str(tmp_path),
        model=model)


def _batch(*skipped_lists) -> dict:
    samples = []
    for skipped in skipped_lists:
        sample = ActionDataSample().set_gt_label(0)
        if skipped is not None:
            sample.set_metainfo(dict(skipped_videos=skipped))
        samples.append(sample)
    return dict(inputs=[torch.zeros(1)] * len(samples), data_samples=samples)


def _warnings(runner) -> list:
    return [call.args[0] for call in runner.logger.warning.call_args_list]


# ---------------------------------------------------------------- SkippedVideoHook


def test_skipped_video_hook_logs_and_counts(tmp_path):
    hook, runner = SkippedVideoHook(), _runner(tmp_path)
    hook.after_train_iter(runner, 0, _batch(None, ['data/bad.mp4'], None))
    assert len(_warnings(runner)) == 1
    assert 'data/bad.mp4' in _warnings(runner)[0]
    assert 'iteration 7' in _warnings(runner)[0]  # runner.iter + 1
    assert runner.message_hub.get_scalar('train/skipped_videos').current() == 1

    hook.after_train_iter(runner, 1, _batch(['data/a.mp4', 'data/b.mp4'], ['data/bad.mp4']))
    assert runner.message_hub.get_scalar('train/skipped_videos').current() == 4
    assert 'data/a.mp4, data/b.mp4, data/bad.mp4' in _warnings(runner)[1]
    assert hook.skipped == ['data/bad.mp4', 'data/a.mp4', 'data/b.mp4', 'data/bad.mp4']


def test_skipped_video_hook_quiet_batch_logs_nothing_but_records_count(tmp_path):
    hook, runner = SkippedVideoHook(), _runner(tmp_path)
    hook.after_train_iter(runner, 0, _batch(None, None))
    hook.after_train_iter(runner, 1, None)
    runner.logger.warning.assert_not_called()
    assert runner.message_hub.get_scalar('train/skipped_videos').current() == 0
    hook.after_train_epoch(runner)
    assert not (tmp_path / 'skipped_videos.txt').exists()


def test_skipped_video_hook_writes_list_after_epoch(tmp_path):
    hook, runner = SkippedVideoHook(), _runner(tmp_path)
    hook.after_train_iter(runner, 0, _batch(['v/z.mp4'], None))
    hook.after_train_iter(runner, 1, _batch(['v/a.mp4', 'v/z.mp4']))
    hook.after_train_epoch(runner)
    assert (tmp_path / 'skipped_videos.txt').read_text(encoding='utf-8') == 'v/a.mp4\nv/z.mp4\n'
    assert '3 skips of 2 distinct' in _warnings(runner)[-1]
    assert str(tmp_path / 'skipped_videos.txt') in _warnings(runner)[-1]


def test_skipped_video_hook_interval(tmp_path):
    hook = SkippedVideoHook(interval=2)
    runner = _runner(tmp_path, epoch=0, max_epochs=3)
    hook.after_train_iter(runner, 0, _batch(['v/a.mp4']))
    hook.after_train_epoch(runner)  # epoch 1 of 3, interval 2: nothing written
    assert not (tmp_path / 'skipped_videos.txt').exists()
    runner.epoch = 1
    hook.after_train_epoch(runner)
    assert (tmp_path / 'skipped_videos.txt').read_text(encoding='utf-8') == 'v/a.mp4\n'
    hook.after_train_iter(runner, 0, _batch(['v/b.mp4']))
    runner.epoch = 2  # the last epoch (Runner.max_epochs is train_loop.max_epochs) is written off the interval
    hook.after_train_epoch(runner)
    assert (tmp_path / 'skipped_videos.txt').read_text(encoding='utf-8') == 'v/a.mp4\nv/b.mp4\n'


def test_skipped_video_hook_is_registered():
    from videoalign.registry import HOOKS
    hook = HOOKS.build(dict(type='SkippedVideoHook', interval=3))
    assert isinstance(hook, SkippedVideoHook) and hook.interval == 3


# ---------------------------------------------------------------- WeightSyncCheckHook


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))


def test_state_checksum_equal_for_identical_models():
    first, second = _model(), _model()
    digest = state_checksum(first)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert state_checksum(second) == digest
    assert state_checksum(first) == digest  # does not change the model


def test_state_checksum_sees_tiny_parameter_change():
    first, second = _model(), _model()
    with torch.no_grad():
        second[2].weight[1, 3] += 1e-6
    assert state_checksum(first) != state_checksum(second)


def test_state_checksum_sees_buffers():
    first, second = _model(), _model()
    second[1].num_batches_tracked += 1
    assert state_checksum(first) != state_checksum(second)
    second = _model()
    second.register_buffer('mask', torch.ones(2, dtype=torch.bool))
    assert state_checksum(first) != state_checksum(second)


def test_weight_sync_check_hook_logs_identical_on_one_process(tmp_path):
    runner = _runner(tmp_path, model=_model())
    WeightSyncCheckHook().after_train(runner)
    runner.logger.info.assert_called_once()
    message = runner.logger.info.call_args.args[0]
    assert 'identical' in message
    assert 'all 1 rank(s)' in message
    assert state_checksum(runner.model)[:16] in message
    runner.logger.error.assert_not_called()


def test_weight_sync_check_hook_on_differing_ranks(tmp_path, monkeypatch):
    runner = _runner(tmp_path, model=_model())
    monkeypatch.setattr(weight_sync_check_hook, 'all_gather_object', lambda obj: [obj, 'f' * 64])
    with pytest.raises(RuntimeError, match='rank 1: ffffffffffffffff'):
        WeightSyncCheckHook().after_train(runner)
    runner.logger.info.assert_not_called()
    WeightSyncCheckHook(strict=False).after_train(runner)
    assert 'weights differ between ranks' in runner.logger.error.call_args.args[0]


# ---------------------------------------------------------------- ClassNamesHook


def _loop(classes):
    dataset = types.SimpleNamespace(metainfo=dict(classes=classes) if classes else {}, ann_file='list.txt')
    return types.SimpleNamespace(dataloader=types.SimpleNamespace(dataset=dataset))


def test_class_names_hook_follows_the_dataset_of_each_loop():
    from videoalign.engine.hooks import ClassNamesHook
    from videoalign.models.heads import TextPromptHead
    head = TextPromptHead(in_channels=32, text_encoder=dict(type='CLIPTextEncoder', arch='tiny'))
    runner = types.SimpleNamespace(
        model=types.SimpleNamespace(cls_head=head),
        train_loop=_loop(('a', 'b')),
        val_loop=_loop(('a', 'b', 'c')),
        test_loop=_loop(('x', )))
    hook = ClassNamesHook()
    hook.before_train(runner)
    assert head.class_names == ['a', 'b'] and head.num_classes == 2
    hook.before_val(runner)
    assert head.class_names == ['a', 'b', 'c']
    hook.after_val(runner)
    assert head.class_names == ['a', 'b']  # back to the training classes
    hook.before_test(runner)
    assert head.class_names == ['x']  # a zero-shot test scores the test set's classes
    bare = TextPromptHead(in_channels=32, text_encoder=dict(type='CLIPTextEncoder', arch='tiny'))
    runner = types.SimpleNamespace(model=types.SimpleNamespace(cls_head=bare), test_loop=_loop(None))
    with pytest.raises(ValueError, match='neither the model nor the test dataset .*list.txt.* has any'):
        hook.before_test(runner)


def test_class_names_hook_checks_a_fixed_head():
    from videoalign.engine.hooks import ClassNamesHook
    head = types.SimpleNamespace(num_classes=3)
    runner = types.SimpleNamespace(model=types.SimpleNamespace(cls_head=head), train_loop=_loop(('a', 'b')))
    with pytest.raises(ValueError, match='declares 2 classes but the model.s SimpleNamespace has num_classes=3'):
        ClassNamesHook().before_train(runner)
