"""MultiframeIntegrationTransformer: X-CLIP's MIT as a recognizer neck, reading and setting named features."""
import pytest
import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope

from videoalign.models.necks.mit import MultiframeIntegrationTransformer
from videoalign.models.recognizers import VideoRecognizer
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

# xclip.md §3.1: the official ``mit.*`` keys (B/16, T=8) without their prefix
OFFICIAL_MIT_SHAPES = {
    'positional_embedding': (1, 8, 512),
    'resblocks.0.attn.in_proj_weight': (1536, 512),
    'resblocks.0.attn.in_proj_bias': (1536, ),
    'resblocks.0.attn.out_proj.weight': (512, 512),
    'resblocks.0.attn.out_proj.bias': (512, ),
    'resblocks.0.ln_1.weight': (512, ),
    'resblocks.0.ln_1.bias': (512, ),
    'resblocks.0.mlp.c_fc.weight': (2048, 512),
    'resblocks.0.mlp.c_fc.bias': (2048, ),
    'resblocks.0.mlp.c_proj.weight': (512, 2048),
    'resblocks.0.mlp.c_proj.bias': (512, ),
    'resblocks.0.ln_2.weight': (512, ),
    'resblocks.0.ln_2.bias': (512, ),
}


def _tiny(**kwargs) -> MultiframeIntegrationTransformer:
    cfg = dict(num_frames=4, embed_dims=64, num_layers=2)
    cfg.update(kwargs)
    mit = MultiframeIntegrationTransformer(**cfg)
    mit.init_weights()
    return mit.eval()


class _Zero(nn.Module):
    """Stands in for the resblocks: their output is zero."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class _FakeClipBackbone(BaseModule):
    """Returns X-CLIP's backbone features ``frame_embeds (B, T, D)``, ``patch_tokens (B, T, N, W)``."""

    def __init__(self, embed_dims: int = 64, width: int = 32, patch: int = 4) -> None:
        super().__init__()
        self.patch_embed = nn.Conv3d(3, width, (1, patch, patch), (1, patch, patch))
        self.proj = nn.Linear(width, embed_dims)

    def forward(self, x: torch.Tensor) -> VideoFeatures:
        tokens = self.patch_embed(x).flatten(3).permute(0, 2, 3, 1)  # (B, T, N, W)
        return VideoFeatures(frame_embeds=self.proj(tokens.mean(2)), patch_tokens=tokens, source='FakeClip')


def test_registry_and_alias():
    for name in ('MultiframeIntegrationTransformer', 'MIT'):
        neck = MODELS.build(dict(type=name, num_frames=4, embed_dims=128))
        assert isinstance(neck, MultiframeIntegrationTransformer)
        assert neck.num_heads == 2 and neck.num_layers == 1
    with pytest.raises(ValueError, match='divisible'):
        MultiframeIntegrationTransformer(embed_dims=64, num_heads=3)


def test_output_shape_and_interface():
    mit = _tiny()
    cls, patches = torch.randn(3, 4, 64), torch.randn(3, 4, 5, 32)
    features = VideoFeatures(frame_embeds=cls, patch_tokens=patches, source='CLIPViT')
    out, loss_aux = mit(features, data_samples=None)
    # video_embeds is set; the other fields pass through, the input is not changed
    assert isinstance(out, VideoFeatures) and loss_aux == {}
    assert out.names == ('frame_embeds', 'patch_tokens', 'video_embeds') and out.video_embeds.shape == (3, 64)
    assert out.frame_embeds is cls and out.patch_tokens is patches and features.video_embeds is None
    assert out.source == 'CLIPViT -> MultiframeIntegrationTransformer'
    # a bare tensor is the frame embeddings (a torch.nn.Identity backbone on cached features)
    bare, _ = mit(cls)
    assert bare.names == ('frame_embeds', 'video_embeds')
    torch.testing.assert_close(bare.video_embeds, out.video_embeds)
    with pytest.raises(ValueError, match='expects frame embeddings'):
        mit(torch.randn(3, 5, 64))
    with pytest.raises(
            ValueError,
            match="MultiframeIntegrationTransformer needs the field 'frame_embeds'.*from a "
            'backbone returning a tuple of 2 tensors'):
        mit((cls, patches))  # an old-style (cls, patches) tuple is not guessed at: it is taken as stage maps


def test_residual_adds_input_without_position_embedding():
    mit = _tiny()
    cls = torch.randn(2, 4, 64)
    # resblocks outputting zero: the output is mean_T(frame_cls) exactly, whatever the position embedding
    blocks, mit.resblocks = mit.resblocks, _Zero()
    torch.testing.assert_close(mit.integrate(cls), cls.mean(1), rtol=0, atol=0)
    with torch.no_grad():
        mit.positional_embedding.normal_(std=10.)
    torch.testing.assert_close(mit.integrate(cls), cls.mean(1), rtol=0, atol=0)
    # resblocks reduced to the identity (output projections zeroed): (cls + pos) + cls, i.e. the position embedding
    # counts once (a residual of cls + pos would count it twice)
    mit.resblocks = blocks
    for block in mit.resblocks:
        for linear in (block.attn.out_proj, block.mlp.c_proj):
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
    expected = 2 * cls.mean(1) + mit.positional_embedding.mean(1)
    torch.testing.assert_close(mit.integrate(cls), expected.detach())


def test_official_keys_shapes_and_parameter_count():
    mit = MultiframeIntegrationTransformer(num_frames=8, embed_dims=512, num_layers=1)
    shapes = {k: tuple(v.shape) for k, v in mit.state_dict().items()}
    assert shapes == OFFICIAL_MIT_SHAPES
    num_params = sum(p.numel() for p in mit.parameters())
    assert num_params == 3_156_480 and round(num_params / 1e6, 2) == 3.16  # xclip.md §2.6: 3.16M


def test_init():
    mit = MultiframeIntegrationTransformer(num_frames=8, embed_dims=512)
    mit.init_weights()
    block = mit.resblocks[0]
    for linear in (block.attn.out_proj, block.mlp.c_fc, block.mlp.c_proj):
        assert abs(linear.weight.std().item() - 0.02) < 0.002  # bounds +-2 (absolute), as timm's trunc_normal_
        assert torch.count_nonzero(linear.bias) == 0
    for norm in (block.ln_1, block.ln_2):
        assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)
    assert abs(mit.positional_embedding.std().item() - 0.02) < 0.003


def test_gradients_reach_every_parameter():
    mit = _tiny()
    cls = torch.randn(2, 4, 64, requires_grad=True)
    mit.train()
    (mit(cls)[0].video_embeds**2).sum().backward()
    for name, param in mit.named_parameters():
        assert param.grad is not None, f'no gradient for {name}'
        assert param.grad.abs().sum() > 0, f'zero gradient for {name}'
    assert cls.grad is not None


def test_in_video_recognizer_multi_view():
    with DefaultScope.overwrite_default_scope('videoalign'):
        recognizer = VideoRecognizer(
            backbone=dict(type=_FakeClipBackbone, embed_dims=64, width=32),
            neck=dict(type='MIT', num_frames=4, embed_dims=64),
            test_cfg=dict(max_testing_views=2))
    recognizer.init_weights()
    recognizer.eval()
    inputs = torch.randn(2, 3, 3, 4, 8, 8)  # (batch, views, C, T, H, W)
    # the training path: extract_feat(stage='neck', data_samples=...) -> neck(x, data_samples=...)
    feats, kwargs = recognizer.extract_feat(inputs, stage='neck', data_samples=[None, None])
    assert feats.video_embeds.shape == (6, 64) and feats.patch_tokens.shape == (6, 4, 4, 32)
    assert kwargs['loss_aux'] == {}
    # the test path, views in chunks of max_testing_views (batch size 1, 3 views: chunks of 2 and 1), and all at once
    chunked, kwargs = recognizer.extract_feat(inputs[:1], test_mode=True)
    assert kwargs == dict(fcn_test=False) and chunked.names == feats.names
    torch.testing.assert_close(chunked.to_dict(), {k: v[:3] for k, v in feats.to_dict().items()})
    recognizer.test_cfg = None
    whole, _ = recognizer.extract_feat(inputs, test_mode=True)
    torch.testing.assert_close(whole.video_embeds, feats.video_embeds)
    # mode='tensor' returns the set fields by name
    out = recognizer(inputs, mode='tensor', stage='neck')
    assert set(out) == {'frame_embeds', 'patch_tokens', 'video_embeds'}
    torch.testing.assert_close(out['video_embeds'], feats.video_embeds)


def test_tiny_xclip_end_to_end():
    """CLIPViT (X-CLIP blocks) -> MIT -> TextPromptHead with the video-specific prompt, multi-view, all modes."""
    import videoalign.models.backbones.clip_vit  # noqa: F401  (registers CLIPViT and its blocks)
    import videoalign.models.heads  # noqa: F401
    import videoalign.models.text.video_specific_prompt  # noqa: F401
    with DefaultScope.overwrite_default_scope('videoalign'):
        recognizer = MODELS.build(
            dict(
                type='Recognizer3D',
                backbone=dict(type='CLIPViT', arch='tiny', num_frames=4, block_cfg=dict(type='XCLIPBlock')),
                neck=dict(type='MIT', num_frames=4, embed_dims=32),
                cls_head=dict(
                    type='TextPromptHead',
                    num_classes=3,
                    in_channels=32,
                    class_names=['run', 'jump', 'swim'],
                    text_encoder=dict(type='CLIPTextEncoder', arch='tiny'),
                    text_prompt=dict(type='VideoSpecificPrompt', embed_dims=32, visual_width=64)),
                data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))
    recognizer.init_weights()
    samples = [ActionDataSample().set_gt_label(label) for label in (0, 2)]
    inputs = torch.randn(2, 2, 3, 4, 32, 32)  # (batch, views, C, T, H, W)
    recognizer.train()
    losses = recognizer(inputs[:, :1], samples, mode='loss')  # training: one view per video
    losses['loss_cls'].backward()
    assert recognizer.neck.positional_embedding.grad is not None
    assert recognizer.cls_head.text_prompt.visual_proj.grad is not None
    recognizer.eval()
    with torch.no_grad():
        preds = recognizer(inputs, samples, mode='predict')
        logits = recognizer(inputs, mode='tensor', stage='head')
    assert len(preds) == 2 and preds[0].pred_score.shape == (3, )
    assert logits.shape == (4, 3)  # one row per view
