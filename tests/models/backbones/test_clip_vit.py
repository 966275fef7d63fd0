"""Tests of CLIPViT, the per-frame CLIP ViT with pluggable blocks."""
import open_clip
import pytest
import torch

from videoalign.models.backbones.clip_vit import CLIPViT, resize_pos_embed
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures
from videoalign.testing.checkpoints import tiny_open_clip

XCLIP = dict(type='XCLIPBlock')


def _visual_state(model: open_clip.model.CLIP) -> dict:
    return {k[len('visual.'):]: v for k, v in model.state_dict().items() if k.startswith('visual.')}


def _split(features: VideoFeatures) -> tuple:
    """``(frame_embeds, patch_tokens)``, the two fields CLIPViT sets."""
    assert isinstance(features, VideoFeatures) and features.names == ('frame_embeds', 'patch_tokens')
    assert features.source == 'CLIPViT'
    return features.frame_embeds, features.patch_tokens


def test_build_and_attributes():
    model = MODELS.build(dict(type='CLIPViT', arch='tiny', num_frames=3))
    assert isinstance(model, CLIPViT)
    assert model.width == 64 and model.embed_dims == 32 and model.grid_size == (4, 4)
    assert model.conv1.bias is None
    assert CLIPViT('tiny', use_proj=False).embed_dims == 64
    assert 'proj' not in CLIPViT('tiny', use_proj=False).state_dict()
    keys = set(model.state_dict())
    assert {
        'conv1.weight', 'class_embedding', 'positional_embedding', 'ln_pre.weight', 'ln_post.bias', 'proj',
        'transformer.resblocks.1.mlp.c_proj.weight'
    } <= keys
    with pytest.raises(TypeError, match='out_type'):  # the output is named VideoFeatures, not a chosen tuple
        CLIPViT('tiny', out_type='cls')
    with pytest.raises(KeyError, match='known names'):
        CLIPViT('ViT-X/1')


@pytest.mark.parametrize('block_cfg', [dict(type='CLIPBlock'), XCLIP])
def test_shapes(block_cfg):
    model = CLIPViT('tiny', num_frames=8, block_cfg=block_cfg).eval()
    cls, patches = _split(model(torch.randn(2, 3, 3, 32, 32)))  # T = 3 is taken from the input
    assert cls.shape == (2, 3, 32) and patches.shape == (2, 3, 16, 64)
    # another resolution: the positional embedding is resized, the patches follow the grid
    cls, patches = _split(model(torch.randn(1, 3, 2, 48, 40)))
    assert cls.shape == (1, 2, 32) and patches.shape == (1, 2, 30, 64)
    with pytest.raises(ValueError, match='B, C, T, H, W'):
        model(torch.randn(2, 3, 32, 32))
    no_proj = CLIPViT('tiny', block_cfg=block_cfg, use_proj=False).eval()
    assert no_proj(torch.randn(1, 3, 2, 32, 32)).frame_embeds.shape == (1, 2, 64)


def test_matches_open_clip_per_frame():
    """With CLIPBlock and the same weights, each frame's CLS output is open_clip's encode_image of that frame."""
    ref = tiny_open_clip()
    model = CLIPViT('tiny', block_cfg=dict(type='CLIPBlock')).eval()
    model.load_state_dict(_visual_state(ref))
    clip = torch.randn(2, 3, 3, 32, 32)
    cls, patches = _split(model(clip))
    frames = clip.transpose(1, 2).reshape(6, 3, 32, 32)
    with torch.no_grad():
        expected = ref.encode_image(frames).view(2, 3, -1)
    torch.testing.assert_close(cls, expected, atol=1e-5, rtol=0)
    # the patch tokens are the last block's raw output: open_clip's tokens are them after ln_post
    ref.visual.output_tokens = True
    with torch.no_grad():
        _, tokens = ref.visual(frames)
    torch.testing.assert_close(model.ln_post(patches), tokens.view(2, 3, 16, 64), atol=1e-5, rtol=0)
    assert not torch.allclose(model.ln_post(patches), patches, atol=1e-3)


def test_with_cp_same_output_and_gradients():
    torch.manual_seed(0)
    model = CLIPViT('tiny', num_frames=4, block_cfg=XCLIP, drop_path_rate=0.2).train()
    model_cp = CLIPViT('tiny', num_frames=4, block_cfg=XCLIP, drop_path_rate=0.2, with_cp=True).train()
    model_cp.load_state_dict(model.state_dict())
    clip = torch.randn(2, 3, 4, 32, 32)
    outputs = []
    for net in (model, model_cp):
        torch.manual_seed(1)
        cls, patches = _split(net(clip))
        (cls.square().mean() + patches.mean()).backward()
        outputs.append((cls, patches))
    torch.testing.assert_close(outputs[0], outputs[1])
    grads = dict(model.named_parameters())
    for name, param in model_cp.named_parameters():
        torch.testing.assert_close(param.grad, grads[name].grad, msg=name)


def test_drop_path_only_in_training():
    torch.manual_seed(0)
    model = CLIPViT('tiny', num_frames=3, block_cfg=XCLIP, drop_path_rate=0.5).eval()
    plain = CLIPViT('tiny', num_frames=3, block_cfg=XCLIP).eval()
    plain.load_state_dict(model.state_dict())
    assert model.transformer.resblocks[0].drop_path.__class__.__name__ == 'Identity'  # rate 0 in the first block
    assert model.transformer.resblocks[-1].drop_path.drop_prob == pytest.approx(0.5)
    clip = torch.randn(2, 3, 3, 32, 32)
    torch.testing.assert_close(model(clip).to_dict(), plain(clip).to_dict())
    model.train()
    torch.manual_seed(2)
    assert not torch.allclose(model(clip).frame_embeds, model(clip).frame_embeds)


def test_every_parameter_gets_gradient():
    model = CLIPViT('tiny', num_frames=3, block_cfg=XCLIP, use_temporal_embedding=True).train()
    cls, patches = _split(model(torch.randn(2, 3, 3, 32, 32)))
    (cls.mean() + patches.mean()).backward()
    num_params = num_grads = 0
    for name, param in model.named_parameters():
        num_params += 1
        assert param.grad is not None, f'No gradient for {name}'
        num_grads += 1
    assert num_params == num_grads


def test_temporal_embedding_fixes_num_frames():
    torch.manual_seed(0)
    model = CLIPViT('tiny', num_frames=3, use_temporal_embedding=True).eval()
    model.init_weights()
    plain = CLIPViT('tiny', num_frames=3).eval()
    plain.load_state_dict(model.state_dict(), strict=False)
    clip = torch.randn(1, 3, 3, 32, 32)
    torch.testing.assert_close(model(clip).to_dict(), plain(clip).to_dict())  # zero-initialised
    with pytest.raises(ValueError, match='num_frames=3'):
        model(torch.randn(1, 3, 4, 32, 32))
    assert model.temporal_embedding.shape == (1, 3, 64)


def test_init_weights_like_clip():
    width, layers = 256, 4
    arch = dict(embed_dim=64, vision=dict(image_size=32, patch_size=16, width=width, layers=layers, heads=4))
    model = CLIPViT(arch, block_cfg=XCLIP)
    message_before = model.transformer.resblocks[3].message_fc.weight.clone()
    model.init_weights()
    block = model.transformer.resblocks[3]
    assert block.attn.in_proj_weight.std().item() == pytest.approx(width**-0.5, rel=0.02)
    assert block.attn.out_proj.weight.std().item() == pytest.approx(width**-0.5 * (2 * layers)**-0.5, rel=0.02)
    assert block.mlp.c_fc.weight.std().item() == pytest.approx((2 * width)**-0.5, rel=0.02)
    assert model.proj.std().item() == pytest.approx(width**-0.5, rel=0.02)
    # the message modules keep PyTorch's default initialisation
    torch.testing.assert_close(block.message_fc.weight, message_before)


def test_resize_pos_embed():
    pos = torch.randn(1 + 16, 8)
    assert resize_pos_embed(pos, (4, 4), (4, 4)) is pos
    out = resize_pos_embed(pos, (4, 4), (6, 5))
    assert out.shape == (31, 8)
    torch.testing.assert_close(out[0], pos[0])
    with pytest.raises(ValueError, match='grid'):
        resize_pos_embed(pos, (3, 3), (4, 4))


def test_full_size_parameter_counts():
    xclip = CLIPViT('ViT-B/16', num_frames=8, block_cfg=XCLIP)
    total = sum(p.numel() for p in xclip.parameters())
    message = sum(p.numel() for n, p in xclip.named_parameters() if '.message_' in n)
    dim = 768
    assert message == 12 * (dim**2 + dim + 2 * dim + 4 * dim**2 + 4 * dim)  # 35.45M
    assert abs(total / 1e6 - 121.65) < 0.01  # X-CLIP's visual encoder incl. message modules (xclip.md)
    plain = CLIPViT('ViT-B/16', block_cfg=dict(type='CLIPBlock'))
    ref = open_clip.create_model('ViT-B-16', pretrained=None).visual
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in ref.parameters())
    assert abs(sum(p.numel() for p in plain.parameters()) / 1e6 - 86.19) < 0.01
    assert total - message == sum(p.numel() for p in plain.parameters())


def test_blocks_get_contiguous_tokens_and_patch_tokens_are_a_view():
    """One copy into the blocks' layout (on a transposed view every LayerNorm would copy); the patch tokens are read
    from the last block's output, not copied."""
    model = CLIPViT('tiny', num_frames=3, block_cfg=XCLIP).eval()
    inputs, outputs = [], []

    def record(module, args, out):
        inputs.append(args[0])
        outputs.append(out)

    for block in model.transformer.resblocks:
        block.register_forward_hook(record)
    with torch.no_grad():
        cls, patches = _split(model(torch.randn(2, 3, 3, 32, 32)))
    assert all(x.is_contiguous() and x.shape == (17, 6, 64) for x in inputs)
    last = outputs[-1]
    assert patches.data_ptr() == last[1:].data_ptr()  # a view of the last block's output
    torch.testing.assert_close(patches, last[1:].transpose(0, 1).reshape(2, 3, 16, 64), rtol=0, atol=0)
    torch.testing.assert_close(cls, (model.ln_post(last[0]) @ model.proj).view(2, 3, 32), rtol=0, atol=0)
