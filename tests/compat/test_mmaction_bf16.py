"""videoalign.compat.mmaction_bf16: mmaction2's BaseHead turns bf16 scores into NumPy; the fix hands it float32."""
import pytest
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample

import videoalign  # noqa: F401  (applies the compat patches)
from videoalign.compat.mmaction_bf16 import to_full_precision
from videoalign.registry import METRICS

BF16 = dict(device_type='cpu', dtype=torch.bfloat16)
NUM_CLASSES = 5


def _i3d_head():
    from mmaction.models.heads import I3DHead
    torch.manual_seed(0)
    return I3DHead(num_classes=NUM_CLASSES, in_channels=8, topk=(1, 3))


def _samples(labels) -> list:
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_unpatched_loss_fails_on_bf16_scores():
    from mmaction.models.heads.base import BaseHead
    head = _i3d_head()
    feats, samples = torch.randn(4, 8, 2, 1, 1), _samples([0, 1, 2, 3])
    with torch.autocast(**BF16):
        scores = head(feats)
        assert scores.dtype == torch.bfloat16
        with pytest.raises(TypeError, match='BFloat16'):
            BaseHead.loss_by_feat.__wrapped__(head, scores, samples)  # the defect
        losses = head.loss_by_feat(scores, samples)
        expected_loss = F.cross_entropy(scores, torch.tensor([0, 1, 2, 3]))  # float32 under autocast
    assert losses['loss_cls'].dtype == torch.float32
    torch.testing.assert_close(losses['loss_cls'], expected_loss, rtol=0, atol=0)  # the hard-label loss is unchanged
    top1 = (scores.float().argmax(1) == torch.arange(4)).float().mean()
    assert losses['top1_acc'].item() == pytest.approx(top1.item())
    assert set(losses) == {'loss_cls', 'top1_acc', 'top3_acc'}
    losses['loss_cls'].backward()
    assert head.fc_cls.weight.grad is not None and torch.isfinite(head.fc_cls.weight.grad).all()


def test_float32_scores_pass_through():
    from mmaction.models.heads.base import BaseHead
    head = _i3d_head()
    scores = torch.randn(3, NUM_CLASSES)
    assert to_full_precision(scores) is scores
    assert to_full_precision(torch.arange(3)).dtype == torch.int64
    samples = _samples([4, 0, 2])
    ours, theirs = head.loss_by_feat(scores, samples), BaseHead.loss_by_feat.__wrapped__(head, scores, samples)
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_predictions_are_stored_in_float32():
    head = _i3d_head().eval()
    with torch.no_grad(), torch.autocast(**BF16):
        predictions = head.predict(torch.randn(4, 8, 2, 1, 1), _samples([0, 1, 2, 3]))
    for prediction in predictions:
        assert prediction.pred_score.dtype == torch.float32
        assert prediction.pred_score.shape[-1] == NUM_CLASSES


def test_acc_metric_scores_bf16_predictions():
    from mmaction.evaluation import AccMetric as MMActionAccMetric
    scores = torch.randn(6, NUM_CLASSES)
    labels = [0, 1, 2, 3, 4, 0]
    bf16 = [dict(pred_score=s.bfloat16(), gt_label=torch.tensor([y])) for s, y in zip(scores, labels)]
    with pytest.raises(TypeError, match='BFloat16'):
        MMActionAccMetric().process(None, bf16)  # mmaction2's own metric: the same defect
    metric = METRICS.build(dict(type='AccMetric'))
    metric.process(None, bf16)
    results = metric.evaluate(len(bf16))
    reference = METRICS.build(dict(type='AccMetric'))
    reference.process(None, [dict(s, pred_score=s['pred_score'].float()) for s in bf16])
    assert results == reference.evaluate(len(bf16))
    assert 0 <= results['acc/top1'] <= 1
    assert bf16[0]['pred_score'].dtype == torch.bfloat16  # the caller's samples are left as they were
