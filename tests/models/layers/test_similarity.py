"""scaled_cosine_similarity: the logits of the text-prompt heads (and of ALPRO's VTC loss)."""
import pytest
import torch
import torch.nn.functional as F

from videoalign.models.layers import scaled_cosine_similarity


def test_shared_keys_are_scaled_cosines():
    torch.manual_seed(0)
    a, b = torch.randn(3, 8), torch.randn(5, 8)
    logits = scaled_cosine_similarity(a, b, 100.)
    assert logits.shape == (3, 5)
    expected = torch.tensor([[100 * F.cosine_similarity(x, y, dim=0) for y in b] for x in a])
    torch.testing.assert_close(logits, expected)
    # only the directions count; the scale may be a tensor (logit_scale.exp())
    torch.testing.assert_close(scaled_cosine_similarity(2 * a, 7 * b, torch.tensor(100.)), logits)
    # the VTC form: v @ t^T / temp on normalised features
    torch.testing.assert_close(
        scaled_cosine_similarity(a, b, 1 / 0.07),
        F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t() / 0.07)


def test_per_query_keys_as_xclip():
    """Keys ``(N, M, D)``: X-CLIP's class embeddings with a video-specific prompt, one set per video."""
    torch.manual_seed(0)
    a, b = torch.randn(3, 8), torch.randn(3, 5, 8)
    expected = 20. * torch.einsum('bd,bkd->bk', F.normalize(a, dim=-1), F.normalize(b, dim=-1))
    assert torch.equal(scaled_cosine_similarity(a, b, 20.), expected)
    shared = torch.randn(5, 8)
    torch.testing.assert_close(
        scaled_cosine_similarity(a, shared.expand(3, -1, -1), 20.), scaled_cosine_similarity(a, shared, 20.))


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        scaled_cosine_similarity(torch.randn(3, 8), torch.randn(5, 4), 1.)
    with pytest.raises(ValueError, match=r'\(N, M, D\)'):
        scaled_cosine_similarity(torch.randn(3, 8), torch.randn(2, 5, 8), 1.)
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        scaled_cosine_similarity(torch.randn(2, 3, 8), torch.randn(5, 8), 1.)
