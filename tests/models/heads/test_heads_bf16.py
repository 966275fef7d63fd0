"""Every head trains and predicts under bf16 autocast, and AccMetric scores its predictions (in float32).

mmaction2's ``BaseHead.loss_by_feat`` turned bf16 scores into NumPy (``TypeError: Got unsupported ScalarType
BFloat16``) and its ``predict_by_feat`` stored bf16 predictions; see ``videoalign/compat/mmaction_bf16.py``. Each head
type runs here inside a tiny model of its method: one ``train_step``, one ``val_step`` and one ``test_step``.
"""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from videoalign.registry import METRICS
from videoalign.testing.tiny_recognizers import LABELS, MODELS_BY_HEAD, NUM_CLASSES, make_batch, tiny_recognizer

BF16 = dict(device_type='cpu', dtype=torch.bfloat16)


def _record_score_dtypes(model: torch.nn.Module) -> list:
    """The dtypes of the class scores the head returns, one entry per head call."""
    dtypes = []
    model.cls_head.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
    return dtypes


def _check_predictions(predictions: list) -> None:
    assert len(predictions) == len(LABELS)
    for prediction in predictions:
        assert prediction.pred_score.dtype == torch.float32
        assert prediction.pred_score.shape[-1] == NUM_CLASSES and torch.isfinite(prediction.pred_score).all()


@pytest.mark.parametrize('head_type', list(MODELS_BY_HEAD))
def test_head_trains_and_predicts_under_bf16_autocast(head_type):
    model = tiny_recognizer(head_type)
    batch = make_batch(MODELS_BY_HEAD[head_type][2])
    score_dtypes = _record_score_dtypes(model)
    optim_wrapper = OptimWrapper(torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3))
    model.train()
    with torch.autocast(**BF16):
        log_vars = model.train_step(batch, optim_wrapper)
    assert score_dtypes == [torch.bfloat16]  # the head really produced bf16 scores
    assert math.isfinite(float(log_vars['loss'].detach())) and 0 <= float(log_vars['top1_acc']) <= 1

    model.eval()
    with torch.no_grad(), torch.autocast(**BF16):  # as mmengine's ValLoop and TestLoop
        val_predictions = model.val_step(batch)
        test_predictions = model.test_step(batch)
    assert score_dtypes[1:] == [torch.bfloat16] * 2
    _check_predictions(val_predictions)
    _check_predictions(test_predictions)

    metric = METRICS.build(dict(type='AccMetric'))
    metric.process(batch, [prediction.to_dict() for prediction in val_predictions])
    results = metric.evaluate(len(LABELS))
    assert 0 <= results['acc/top1'] <= results['acc/top5'] <= 1
