"""PEM: the prompter's soft labels with the intended and the official ignore rule, and the soft cross-entropy."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.models.losses import PEMLoss, pem_loss, pem_pseudo_labels
from videoalign.registry import MODELS


def official_compute_soft_labels(sim_vp_masked: torch.Tensor, ignore_threshold: float = 0.2):
    """``Prompter._compute_soft_labels`` (salesforce/ALPRO); its input is already divided by the temperature."""
    soft_labels = nn.Softmax(dim=1)(sim_vp_masked)
    ignore_masks = torch.max(sim_vp_masked, dim=1)[1] < ignore_threshold
    return soft_labels, ignore_masks


def official_mpm_loss(mpm_logits: torch.Tensor, soft_labels: torch.Tensor, ignore_masks: torch.Tensor):
    """The loss of ``AlproForPretrain.compute_mpm_with_encoder_out`` after ``mpm_head``."""
    bsz = mpm_logits.shape[0]
    cross_entropy = -torch.sum(F.log_softmax(mpm_logits, dim=1) * soft_labels, dim=1)
    cross_entropy[ignore_masks] = 0.
    return torch.sum(cross_entropy) / (bsz - torch.sum(ignore_masks))


def _sims(seed: int = 0, batch: int = 16, entities: int = 30) -> torch.Tensor:
    """Cosine-like similarities, as those of normalised features to template means."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, entities, generator=gen) * 0.6 - 0.1


def test_official_rule_is_the_official_code():
    temp = torch.tensor(0.05)
    for seed in range(5):
        sim = _sims(seed)
        sim[::3, 0] = 1.  # some samples whose top entity is index 0
        soft, ignore = pem_pseudo_labels(sim, temp, 0.2, 'official')
        ref_soft, ref_ignore = official_compute_soft_labels(sim / temp)
        torch.testing.assert_close(soft, ref_soft)
        assert torch.equal(ignore, ref_ignore) and ignore.dtype == torch.bool
        assert torch.equal(ignore, sim.argmax(dim=1) == 0)  # what the bug amounts to


def test_the_two_rules_disagree_where_the_bug_bites():
    sim = torch.zeros(3, 30)
    sim[0, 0] = 1.  # confident, top entity is index 0: the official code ignores it
    sim[1, 5] = 0.02  # unsure (top probability ~0.03), top entity 5: the official code keeps it
    sim[2, 7] = 1.  # confident, entity 7: both keep it
    temp = 0.07
    soft, intended = pem_pseudo_labels(sim, temp)  # the default rule is 'intended'
    _, official = pem_pseudo_labels(sim, temp, ignore_rule='official')
    assert soft[0].max() > 0.9 and soft[1].max() < 0.2
    assert intended.tolist() == [False, True, False]
    assert official.tolist() == [True, False, False]
    torch.testing.assert_close(soft, F.softmax(sim / temp, dim=1))
    # the intended rule: the top probability against the threshold
    for threshold in (0.0, 0.5, 1.0):
        _, ignore = pem_pseudo_labels(sim, temp, threshold)
        assert torch.equal(ignore, soft.max(dim=1).values < threshold)


def test_pseudo_labels_have_no_gradient_and_are_float32():
    temp = nn.Parameter(torch.tensor(0.07))
    sim = _sims().half().requires_grad_()
    soft, ignore = pem_pseudo_labels(sim, temp)
    assert soft.dtype == torch.float32 and not soft.requires_grad and not ignore.requires_grad
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(16))


def test_loss_equals_the_official_loss():
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        logits = torch.randn(16, 30, generator=gen).requires_grad_()
        soft = F.softmax(torch.randn(16, 30, generator=gen) * 3, dim=1)
        ignore = torch.rand(16, generator=gen) < 0.3
        loss = pem_loss(logits, soft, ignore)
        ref = official_mpm_loss(logits, soft, ignore)
        torch.testing.assert_close(loss, ref)
        grad, = torch.autograd.grad(loss, logits)
        ref_grad, = torch.autograd.grad(ref, logits)
        torch.testing.assert_close(grad, ref_grad)
        assert (grad[ignore] == 0).all()
    # no mask: the mean soft cross-entropy
    torch.testing.assert_close(pem_loss(logits, soft), -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean())


def test_all_ignored_gives_zero_with_a_gradient_not_nan():
    logits = torch.randn(4, 10, requires_grad=True)
    soft = F.softmax(torch.randn(4, 10), dim=1)
    ignore = torch.ones(4, dtype=torch.bool)
    loss = PEMLoss()(logits, soft, ignore)
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    assert logits.grad is not None and (logits.grad == 0).all()
    assert math.isnan(official_mpm_loss(logits, soft, ignore).item())  # the official: 0 / 0


def test_gradient_flows_only_into_the_logits():
    logits = torch.randn(6, 10, requires_grad=True)
    targets = torch.randn(6, 10, requires_grad=True)
    soft = F.softmax(targets, dim=1)
    loss = PEMLoss()(logits, soft, torch.tensor([False, True, False, False, True, False]))
    loss.backward()
    assert targets.grad is None
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_module_rule_weight_accuracy_and_registry():
    sim = _sims(3)
    sim[0, 0] = 1.
    temp = 0.05
    for rule in ('intended', 'official'):
        loss_module = MODELS.build(dict(type='PEMLoss', ignore_rule=rule, ignore_threshold=0.1))
        assert isinstance(loss_module, PEMLoss) and f"ignore_rule='{rule}'" in repr(loss_module)
        for got, expected in zip(loss_module.pseudo_labels(sim, temp), pem_pseudo_labels(sim, temp, 0.1, rule)):
            assert torch.equal(got, expected)
    assert PEMLoss().ignore_rule == 'intended' and PEMLoss().ignore_threshold == 0.2

    soft, ignore = pem_pseudo_labels(sim, temp)
    logits = torch.randn(16, 30)
    torch.testing.assert_close(PEMLoss(loss_weight=0.5)(logits, soft, ignore), pem_loss(logits, soft, ignore) / 2)
    # the official mpm_acc: top logit == top label over all samples, the ignored included
    logits = soft.log() * 2
    logits[:4] = -logits[:4]
    loss, accuracy = PEMLoss()(logits, soft, ignore, return_accuracy=True)
    assert accuracy.item() == pytest.approx(12 / 16)


def test_errors():
    with pytest.raises(ValueError, match='ignore_rule must be one of'):
        PEMLoss(ignore_rule='paper')
    with pytest.raises(ValueError, match=r'ignore_threshold must be a probability in \[0, 1\]'):
        pem_pseudo_labels(_sims(), 0.07, ignore_threshold=2.)
    with pytest.raises(ValueError, match=r'expected similarities \(B, K\)'):
        pem_pseudo_labels(torch.randn(5), 0.07)
    with pytest.raises(ValueError, match='same shape'):
        pem_loss(torch.randn(4, 10), torch.randn(4, 9))
    with pytest.raises(ValueError, match=r'ignore_mask of shape \(4,\)'):
        pem_loss(torch.randn(4, 10), torch.randn(4, 10), torch.zeros(3, dtype=torch.bool))
