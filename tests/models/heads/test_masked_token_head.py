"""MaskedTokenHead: targets are the frozen tokenizer's argmax ids; the loss and accuracy cover masked positions only."""
import pytest
import torch
import torch.nn.functional as F

from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures
from videoalign.testing import TINY_BEVT_HEAD


@pytest.fixture
def head():
    torch.manual_seed(0)
    model = MODELS.build(TINY_BEVT_HEAD)
    model.init_weights()
    return model


def test_the_tokenizer_is_frozen(head):
    assert not any(p.requires_grad for p in head.vae_encoder.parameters())
    head.train()
    assert head.training and not head.vae_encoder.training
    # mmpretrain's DALL-E is trainable as built; the head freezes whatever it is given
    plain = MODELS.build(dict(TINY_BEVT_HEAD, vae_encoder=dict(type='mmpretrain.DALL-E', n_hid=16, vocab_size=64)))
    assert any(
        p.requires_grad for p in MODELS.build(dict(type='mmpretrain.DALL-E', n_hid=16, vocab_size=64)).parameters())
    assert not any(p.requires_grad for p in plain.vae_encoder.parameters())
    assert abs(head.lm_head.weight.std().item() - 0.02) < 0.005 and not head.lm_head.bias.any()


def test_loss_on_masked_positions(head):
    tokens = torch.randn(2, 4, 16, 64, requires_grad=True)  # (B, T, L, C): 4 frames of 4x4 tokens
    frames = torch.rand(2, 3, 4, 32, 32)  # the tokenizer's copies
    mask = torch.rand(2, 4, 4, 4) > 0.5
    out = head.loss(VideoFeatures(patch_tokens=tokens), frames, mask)
    with torch.no_grad():
        per_frame = frames.transpose(1, 2).flatten(0, 1)
        ids = head.vae_encoder(per_frame).argmax(1).flatten(1).view(2, 4, 16)
    flat_mask = mask.view(2, 4, 16)
    logits = head.lm_head(tokens[flat_mask])
    torch.testing.assert_close(out['loss_cls'], F.cross_entropy(logits, ids[flat_mask]))
    torch.testing.assert_close(out['mask_acc'], (logits.argmax(-1) == ids[flat_mask]).float().mean())
    out['loss_cls'].backward()
    reached = tokens.grad.abs().sum(-1) > 0
    assert torch.equal(reached, flat_mask)  # unmasked tokens get no loss
    # images: (B, C, h, w) copies and (B, h', w') masks
    out = head.loss(
        VideoFeatures(patch_tokens=torch.randn(3, 1, 16, 64)), torch.rand(3, 3, 32, 32),
        torch.rand(3, 4, 4) > 0.3)
    assert out['loss_cls'].ndim == 0 and 0 <= out['mask_acc'] <= 1
    with pytest.raises(ValueError, match='must cover the same'):  # a 64 px copy gives 8x8 ids for 4x4 tokens
        head.loss(
            VideoFeatures(patch_tokens=torch.randn(3, 1, 16, 64)), torch.rand(3, 3, 64, 64),
            torch.rand(3, 4, 4) > 0.3)
