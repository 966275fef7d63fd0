"""MLMLoss: ALPRO's cross-entropy over the vocabulary on the masked positions (labels -100 elsewhere)."""
import math

import pytest
import torch
from torch.nn import CrossEntropyLoss

from videoalign.models.losses import MLMLoss
from videoalign.registry import MODELS

VOCAB = 50


def official_mlm(mlm_logits: torch.Tensor, mlm_labels: torch.Tensor):
    """``AlproForPretrain.compute_mlm``'s loss and ``run_pretrain_sparse.py``'s accuracy (salesforce/ALPRO)."""
    loss_fct = CrossEntropyLoss()
    mlm_loss = loss_fct(mlm_logits.view(-1, VOCAB), mlm_labels.view(-1))
    mlm_mask = mlm_labels != -100
    n_mlm_tokens = mlm_mask.sum().item()
    n_mlm_corrects = (mlm_logits[mlm_mask].max(dim=-1)[1] == mlm_labels[mlm_mask]).sum().item()
    return mlm_loss, n_mlm_corrects / n_mlm_tokens


def _inputs(seed: int = 0, batch: int = 4, length: int = 12):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, length, VOCAB, generator=gen) * 3
    labels = torch.randint(0, VOCAB, (batch, length), generator=gen)
    labels[torch.rand(batch, length, generator=gen) > 0.3] = -100
    return logits.requires_grad_(), labels


def test_equals_the_official_loss_and_accuracy():
    for seed in range(5):
        logits, labels = _inputs(seed)
        loss, accuracy = MLMLoss()(logits, labels, return_accuracy=True)
        ref_loss, ref_accuracy = official_mlm(logits, labels)
        torch.testing.assert_close(loss, ref_loss)
        assert accuracy.item() == pytest.approx(ref_accuracy)
        grad, = torch.autograd.grad(loss, logits)
        ref_grad, = torch.autograd.grad(ref_loss, logits)
        torch.testing.assert_close(grad, ref_grad)
        assert (grad[labels == -100] == 0).all()  # only the masked positions are trained


def test_accuracy_counts_the_masked_tokens_only():
    labels = torch.tensor([[3, -100, 5, -100]])
    logits = torch.zeros(1, 4, VOCAB)
    logits[0, 0, 3] = 10.  # right
    logits[0, 1, 7] = 10.  # ignored
    logits[0, 2, 6] = 10.  # wrong
    _, accuracy = MLMLoss()(logits, labels, return_accuracy=True)
    assert accuracy.item() == 0.5


def test_no_masked_token_gives_zero_not_nan():
    logits, labels = _inputs()
    labels[:] = -100
    loss, accuracy = MLMLoss()(logits, labels, return_accuracy=True)
    assert loss.item() == 0 and accuracy.item() == 0
    loss.backward()
    assert logits.grad is not None and (logits.grad == 0).all()
    assert math.isnan(CrossEntropyLoss()(logits.view(-1, VOCAB), labels.view(-1)).item())  # the official: NaN


def test_weight_half_precision_and_registry():
    logits, labels = _inputs()
    loss = MODELS.build(dict(type='MLMLoss', loss_weight=0.5))(logits, labels)
    torch.testing.assert_close(loss, MLMLoss()(logits, labels) / 2)
    half = MLMLoss()(logits.detach().half(), labels)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, MLMLoss()(logits.detach().half().float(), labels))
    assert 'loss_weight=0.5' in repr(MODELS.build(dict(type='MLMLoss', loss_weight=0.5)))


def test_errors():
    logits, labels = _inputs()
    with pytest.raises(ValueError, match='same leading shape'):
        MLMLoss()(logits, labels[:, :5])
    with pytest.raises(ValueError, match='same leading shape'):
        MLMLoss()(logits[0, 0], labels[0, 0])
