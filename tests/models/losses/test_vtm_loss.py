"""ALPRO's VTM: hard negatives from the softmaxed local similarities (never the own pair), and the loss."""
import pytest
import torch
import torch.nn.functional as F

from videoalign.models.losses import HardNegatives, VTMLoss, sample_hard_negatives, vtm_labels, vtm_pair_indices
from videoalign.registry import MODELS


def test_shapes_dtype_and_no_gradient():
    sim = torch.randn(5, 5, requires_grad=True)
    before = sim.detach().clone()
    negatives = sample_hard_negatives(sim, sim.t(), generator=torch.Generator().manual_seed(0))
    assert isinstance(negatives, HardNegatives)
    for idx in negatives:
        assert idx.shape == (5, ) and idx.dtype == torch.long and not idx.requires_grad
        assert ((idx >= 0) & (idx < 5)).all()
    assert torch.equal(sim.detach(), before)  # the inputs are not modified (the official code fills a clone)


def test_never_the_diagonal():
    gen = torch.Generator().manual_seed(0)
    sim = torch.randn(6, 6, generator=gen)
    sim.fill_diagonal_(100.)  # the own pair would take all the weight of a plain softmax
    own = torch.arange(6)
    for _ in range(300):
        negatives = sample_hard_negatives(sim, sim, generator=gen)
        assert (negatives.video_for_text != own).all() and (negatives.text_for_video != own).all()
    # two pairs: the only negative is the other one
    assert sample_hard_negatives(torch.randn(2, 2), torch.randn(2, 2)).video_for_text.tolist() == [1, 0]


def test_follows_the_softmax_of_the_off_diagonal_similarities():
    gen = torch.Generator().manual_seed(0)
    sim_v2t = torch.randn(4, 4, generator=gen) * 2
    sim_t2v = torch.randn(4, 4, generator=gen) * 2
    draws = 4000
    counts_video = torch.zeros(4, 4)
    counts_text = torch.zeros(4, 4)
    rows = torch.arange(4)
    for _ in range(draws):
        negatives = sample_hard_negatives(sim_v2t, sim_t2v, generator=gen)
        counts_video[rows, negatives.video_for_text] += 1
        counts_text[rows, negatives.text_for_video] += 1

    def expected(sim):
        weights = sim.clone()
        weights.fill_diagonal_(float('-inf'))
        return F.softmax(weights, dim=1)

    # the negative video of a text follows sim_t2v, the negative text of a video sim_v2t (std of a frequency < 0.008)
    torch.testing.assert_close(counts_video / draws, expected(sim_t2v), atol=0.035, rtol=0)
    torch.testing.assert_close(counts_text / draws, expected(sim_v2t), atol=0.035, rtol=0)
    assert (counts_video.diagonal() == 0).all() and (counts_text.diagonal() == 0).all()


def test_routing_of_the_two_matrices():
    """A text's negative video comes from its row of sim_t2v, a video's negative text from its row of sim_v2t."""
    sim_v2t = torch.zeros(3, 3)
    sim_t2v = torch.zeros(3, 3)
    sim_v2t[:, 2], sim_v2t[2, 0] = 100., 100.  # every video's hard negative text: 2 (0 for video 2)
    sim_t2v[:, 1], sim_t2v[1, 0] = 100., 100.  # every text's hard negative video: 1 (0 for text 1)
    negatives = sample_hard_negatives(sim_v2t, sim_t2v)
    assert negatives.text_for_video.tolist() == [2, 2, 0]
    assert negatives.video_for_text.tolist() == [1, 0, 1]


def test_generator_reproducibility():
    sim = torch.randn(8, 8)
    first = sample_hard_negatives(sim, sim.t(), generator=torch.Generator().manual_seed(7))
    second = sample_hard_negatives(sim, sim.t(), generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_sampling_errors():
    with pytest.raises(ValueError, match='square'):
        sample_hard_negatives(torch.randn(3, 6), torch.randn(3, 6))
    with pytest.raises(ValueError, match='square'):
        sample_hard_negatives(torch.randn(3, 3), torch.randn(4, 4))
    with pytest.raises(ValueError, match='at least 2'):
        sample_hard_negatives(torch.randn(1, 1), torch.randn(1, 1))


def test_pair_indices_in_the_official_order():
    negatives = HardNegatives(video_for_text=torch.tensor([2, 0, 1]), text_for_video=torch.tensor([1, 2, 0]))
    text_idx, video_idx = vtm_pair_indices(negatives)
    # positives; text_embeds with video_embeds_neg; text_embeds_neg with video_embeds
    assert text_idx.tolist() == [0, 1, 2, 0, 1, 2, 1, 2, 0]
    assert video_idx.tolist() == [0, 1, 2, 2, 0, 1, 0, 1, 2]
    assert vtm_labels(3).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0]


def test_loss_value_and_label_order():
    torch.manual_seed(0)
    logits = torch.randn(9, 2, requires_grad=True)
    loss = VTMLoss()(logits)
    labels = torch.tensor([1] * 3 + [0] * 6)
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels))
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    torch.testing.assert_close(VTMLoss(loss_weight=0.5)(logits), loss / 2)

    # the first third is matched, the rest not
    right = torch.cat([torch.tensor([[-10., 10.]]).repeat(2, 1), torch.tensor([[10., -10.]]).repeat(4, 1)])
    loss, accuracy = VTMLoss()(right, return_accuracy=True)
    assert loss < 1e-6 and accuracy.item() == 1.
    loss, accuracy = VTMLoss()(right.flip(0), return_accuracy=True)
    assert loss > 5 and accuracy.item() == pytest.approx(2 / 6)


def test_loss_errors_and_registry():
    for shape in ((8, 2), (9, 3), (9, ), (0, 2)):
        with pytest.raises(ValueError, match=r'\(3B, 2\)'):
            VTMLoss()(torch.randn(*shape))
    assert isinstance(MODELS.build(dict(type='VTMLoss')), VTMLoss)
