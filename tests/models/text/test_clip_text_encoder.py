"""Tests of CLIPTextEncoder: open_clip's key names and outputs, token-embedding input, causal masking."""
import open_clip
import pytest
import torch
from open_clip.model import CLIPTextCfg, CLIPVisionCfg

from videoalign.models.text import CLIPTextEncoder
from videoalign.registry import MODELS

TEXTS = ['a photo of a dog.', 'playing guitar', 'abseiling', 'a person is riding a mechanical bull at night']


@pytest.fixture(scope='module')
def open_clip_model() -> open_clip.model.CLIP:
    """A tiny open_clip CLIP (QuickGELU, the text size of the 'tiny' arch) with every weight randomised."""
    torch.manual_seed(0)
    model = open_clip.model.CLIP(
        embed_dim=32,
        vision_cfg=CLIPVisionCfg(layers=1, width=32, head_width=16, patch_size=8, image_size=16),
        text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=2),
        quick_gelu=True)
    with torch.no_grad():
        for param in model.parameters():  # LayerNorm weights and biases are 1 and 0 at init: move them too
            param.add_(torch.randn_like(param) * 0.05)
    return model.eval()


def _text_state_dict(model: open_clip.model.CLIP) -> dict:
    """The text-tower entries of an open_clip CLIP state dict, names unchanged."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith('visual.') and k != 'logit_scale'}


def test_keys_match_open_clip_by_name(open_clip_model):
    encoder = CLIPTextEncoder(arch='tiny')
    assert set(encoder.state_dict()) == set(_text_state_dict(open_clip_model))
    encoder.load_state_dict(_text_state_dict(open_clip_model), strict=True)
    # a whole CLIP state dict: only visual.* and logit_scale are left over
    incompatible = encoder.load_state_dict(open_clip_model.state_dict(), strict=False)
    assert incompatible.missing_keys == []
    assert {k.split('.')[0] for k in incompatible.unexpected_keys} == {'visual', 'logit_scale'}


def test_forward_equals_open_clip_encode_text(open_clip_model):
    encoder = CLIPTextEncoder(arch='tiny').eval()
    encoder.load_state_dict(_text_state_dict(open_clip_model))
    tokens = open_clip.tokenize(TEXTS)
    with torch.no_grad():
        expected = open_clip_model.encode_text(tokens)
        actual = encoder(tokens)
    assert actual.shape == (len(TEXTS), 32)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)


def test_forward_embeddings_equals_forward():
    torch.manual_seed(0)
    encoder = CLIPTextEncoder(arch='tiny').eval()
    tokens = open_clip.tokenize(TEXTS)
    with torch.no_grad():
        from_ids = encoder(tokens)
        from_embeds = encoder.forward_embeddings(encoder.token_embedding(tokens), tokens.argmax(dim=-1))
    torch.testing.assert_close(from_embeds, from_ids, atol=1e-6, rtol=0)


def test_forward_embeddings_is_causal_and_reads_the_given_eot():
    """Efficient-Prompt's use: the output depends on the embeddings up to the given EOT position only."""
    torch.manual_seed(0)
    encoder = CLIPTextEncoder(arch='tiny').eval()
    embeds = torch.randn(3, 77, 32)
    eot = torch.tensor([5, 20, 76])
    changed = embeds.clone()
    changed[0, 6:] = torch.randn(71, 32)
    changed[1, 21:] = torch.randn(56, 32)
    with torch.no_grad():
        out = encoder.forward_embeddings(embeds, eot)
        out_changed = encoder.forward_embeddings(changed, eot)
        out_moved = encoder.forward_embeddings(embeds, torch.tensor([6, 20, 76]))
    torch.testing.assert_close(out_changed, out, atol=1e-6, rtol=0)
    assert not torch.allclose(out_moved[0], out[0])
    torch.testing.assert_close(out_moved[1:], out[1:], atol=1e-6, rtol=0)


def test_gradients_reach_prompt_embeddings_through_frozen_encoder():
    encoder = CLIPTextEncoder(arch='tiny').requires_grad_(False)
    prompt = torch.zeros(2, 77, 32, requires_grad=True)
    encoder.forward_embeddings(prompt, torch.tensor([3, 4])).sum().backward()
    assert prompt.grad is not None and prompt.grad[:, :4].abs().sum() > 0
    assert prompt.grad[0, 4:].abs().sum() == 0  # after the EOT: masked out
    assert all(p.grad is None for p in encoder.parameters())


def test_arch_as_dict_and_registry():
    arch = dict(embed_dim=16, text=dict(context_length=10, vocab_size=100, width=24, heads=3, layers=1))
    encoder = MODELS.build(dict(type='CLIPTextEncoder', arch=arch))
    assert isinstance(encoder, CLIPTextEncoder)
    assert (encoder.context_length, encoder.width, encoder.embed_dim) == (10, 24, 16)
    assert encoder.text_projection.shape == (24, 16)
    assert encoder.positional_embedding.shape == (10, 24)
    tokens = torch.zeros(2, 10, dtype=torch.long)
    tokens[:, 0], tokens[0, 3], tokens[1, 9] = 98, 99, 99
    assert encoder(tokens).shape == (2, 16)


def test_vit_b16_size_and_clip_init():
    encoder = CLIPTextEncoder()  # ViT-B/16: 12 layers of width 512, 8 heads
    assert len(encoder.transformer.resblocks) == 12
    assert encoder.transformer.resblocks[0].attn.num_heads == 8
    assert encoder.text_projection.shape == (512, 512)
    assert encoder.token_embedding.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert encoder.positional_embedding.std().item() == pytest.approx(0.01, rel=0.05)
    assert encoder.text_projection.std().item() == pytest.approx(512**-0.5, rel=0.05)
    mask = encoder.transformer.resblocks[0].attn_mask
    assert mask.shape == (77, 77) and mask[0, 1] == float('-inf') and mask[1, 0] == 0 and mask[5, 5] == 0


def test_bad_shapes_raise():
    encoder = CLIPTextEncoder(arch='tiny')
    with pytest.raises(ValueError, match='tokens must have shape'):
        encoder(torch.zeros(77, dtype=torch.long))
    with pytest.raises(ValueError, match='embeddings must have shape'):
        encoder.forward_embeddings(torch.zeros(2, 10, 32), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match='eot_indices must have shape'):
        encoder.forward_embeddings(torch.zeros(2, 77, 32), torch.tensor([1]))


def test_positions_after_the_last_eot_are_not_computed():
    """Under the causal mask the tokens after the last EOT cannot reach an EOT token: they are left out."""
    torch.manual_seed(0)
    encoder = CLIPTextEncoder(arch='tiny').eval()
    embeds = torch.randn(3, 77, 32)
    eot = torch.tensor([5, 20, 9])
    lengths = []
    encoder.transformer.resblocks[0].register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape))
    with torch.no_grad():
        out = encoder.forward_embeddings(embeds, eot)
        # the full-length computation of every position, as CLIP's encode_text
        x = (embeds + encoder.positional_embedding).transpose(0, 1)
        for block in encoder.transformer.resblocks:
            x = x + block.attn(
                block.ln_1(x), block.ln_1(x), block.ln_1(x), need_weights=False, attn_mask=block.attn_mask)[0]
            x = x + block.mlp(block.ln_2(x))
        expected = encoder.ln_final(x.transpose(0, 1)[torch.arange(3), eot]) @ encoder.text_projection
    assert lengths == [(21, 3, 32)]
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
