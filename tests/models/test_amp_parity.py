"""bf16 autocast against fp32 for the tiny model of every method: training through mmengine's ``AmpOptimWrapper``
on the CPU (``videoalign.compat.amp_cpu``), and predictions.

Tolerances (stated in docs/benchmark.md): over three SGD steps from the same weights on the same batch the bf16
losses stay within 5% of the fp32 ones (relative); predicted class probabilities differ by at most 0.02.
"""
from typing import Callable

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from videoalign.registry import MODELS
from videoalign.testing import tiny_alpro_retrieval, tiny_bevt_batches, tiny_bevt_pretrainer, write_vocab
from videoalign.testing.tiny_recognizers import MODELS_BY_HEAD, make_batch, tiny_recognizer

LOSS_RTOL = 0.05
SCORE_ATOL = 0.02
STEPS = 3


def _wrapper(model: torch.nn.Module, amp: bool) -> OptimWrapper:
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-2, momentum=0.9)
    if amp:
        wrapper = AmpOptimWrapper(optimizer=optimizer)  # refused on a CPU by mmengine 0.10.7 itself
        assert wrapper.cast_dtype == torch.bfloat16
        return wrapper
    return OptimWrapper(optimizer=optimizer)


def _train_losses(build: Callable, step: Callable, amp: bool) -> list:
    """The losses of ``STEPS`` calls of ``step(model, wrapper)`` on a model from ``build()``."""
    model = build()
    model.train()
    wrapper = _wrapper(model, amp)
    torch.manual_seed(1)  # the same dropout and drop-path draws in both precisions
    return [float(step(model, wrapper)) for _ in range(STEPS)]


def _assert_tracks(fp32: list, bf16: list) -> None:
    for full, half in zip(fp32, bf16):
        assert abs(half - full) <= LOSS_RTOL * abs(full), (fp32, bf16)
    assert fp32 != bf16  # the bf16 run really ran in bf16


@pytest.mark.parametrize('head_type', list(MODELS_BY_HEAD))
def test_recognizer_bf16_training_and_predictions_track_fp32(head_type):
    batch = make_batch(MODELS_BY_HEAD[head_type][2])

    def step(model, wrapper):  # mmengine's train step: the wrapper's optim_context autocasts
        return model.train_step(batch, wrapper)['loss'].detach()

    _assert_tracks(*(_train_losses(lambda: tiny_recognizer(head_type), step, amp) for amp in (False, True)))

    model = tiny_recognizer(head_type).eval()
    with torch.no_grad():
        fp32 = torch.stack([p.pred_score for p in model.test_step(batch)])
        with torch.autocast('cpu', dtype=torch.bfloat16):
            bf16 = torch.stack([p.pred_score for p in model.test_step(batch)])
    assert bf16.dtype == torch.float32  # predictions are stored in float32 (videoalign.compat.mmaction_bf16)
    assert (bf16 - fp32).abs().max() <= SCORE_ATOL


def test_bevt_pretrainer_bf16_losses_track_fp32():
    video, image = tiny_bevt_batches()

    def build():
        torch.manual_seed(0)
        model = MODELS.build(tiny_bevt_pretrainer(data_preprocessor=None))
        model.init_weights()
        return model

    def step(model, wrapper):  # the joint video + image step of BEVT's training loop
        with wrapper.optim_context(model):
            loss, _ = model.parse_losses(model(video, image, mode='loss'))
        wrapper.update_params(loss)
        return loss.detach()

    _assert_tracks(*(_train_losses(build, step, amp) for amp in (False, True)))


def test_alpro_retrieval_bf16_losses_track_fp32(tmp_path):
    captions = ['a red circle moves left', 'a blue square grows', 'a green triangle moves up', 'a red square shrinks']
    vocab = str(tmp_path / 'vocab.txt')
    vocab_size = write_vocab(vocab, captions)
    clips = torch.randn(4, 1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(1))
    samples = [ActionDataSample(metainfo=dict(text=text)) for text in captions]

    def build():
        torch.manual_seed(0)
        return MODELS.build(tiny_alpro_retrieval(vocab, vocab_size))

    def step(model, wrapper):  # VTC + VTM
        with wrapper.optim_context(model):
            loss, _ = model.parse_losses(model(clips, samples, mode='loss'))
        wrapper.update_params(loss)
        return loss.detach()

    _assert_tracks(*(_train_losses(build, step, amp) for amp in (False, True)))
