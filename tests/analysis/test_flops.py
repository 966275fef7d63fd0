"""videoalign.analysis.flops (the counting function and its attention handles) and tools/analysis/get_flops.py."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from open_clip.transformer import VisionTransformer

from videoalign.analysis import flops as get_flops
from videoalign.models.necks.mit import MultiframeIntegrationTransformer
from videoalign.models.recognizers import VideoRecognizer
from videoalign.models.text.video_specific_prompt import PromptCrossAttention
from videoalign.structures import VideoFeatures
from videoalign.testing import R3D_CONFIG, run_tool

# fvcore counting (one multiply-add = one FLOP) of CLIP ViT-B/16 on one 224x224 image: patch conv, 12 blocks (qkv,
# q k^T, attn v, out projection, MLP), the final projection; LayerNorms add 0.02 G
VIT_B16_GFLOPS = 17.58


def _vit_b16_analytic(tokens: int = 197, width: int = 768, layers: int = 12, heads: int = 12) -> int:
    head_dim = width // heads
    block = (
        tokens * width * 3 * width  # qkv
        + 2 * heads * tokens * tokens * head_dim  # q k^T and attn v
        + tokens * width * width  # out projection
        + 2 * tokens * width * 4 * width)  # MLP
    return (tokens - 1) * width * 3 * 16 * 16 + layers * block + width * 512


class _SDPA(nn.Module):

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(x, x, x)


class _MHA(nn.Module):
    """``nn.MultiheadAttention`` self-attention, with the options that change its code path."""

    def __init__(self, batch_first: bool, need_weights: bool, mask: bool) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(64, 4, batch_first=batch_first)
        self.need_weights = need_weights
        self.mask = torch.zeros(10, 10) if mask else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=self.need_weights, attn_mask=self.mask)[0]


def test_attention_is_counted_exactly():
    # scaled-dot-product attention: 2 * B * H * L * L * d
    result = get_flops.count_flops(_SDPA(), (2, 4, 10, 16))
    assert result['flops'] == 2 * 2 * 4 * 10 * 10 * 16
    assert not result['uncounted']
    # nn.MultiheadAttention, whichever path it takes: in/out projections plus the two attention products
    expected = 2 * 10 * 64 * 3 * 64 + 2 * 10 * 64 * 64 + 2 * 2 * 4 * 10 * 10 * 16
    for batch_first, need_weights, mask in [(True, False, False), (False, False, False), (False, True, True),
                                            (False, True, False)]:
        shape = (2, 10, 64) if batch_first else (10, 2, 64)
        result = get_flops.count_flops(_MHA(batch_first, need_weights, mask), shape)
        assert result['flops'] == expected, (batch_first, need_weights, mask, result['by_operator'])
        assert set(result['uncounted']) <= get_flops.ELEMENTWISE_OPS
    assert torch.backends.mha.get_fastpath_enabled()  # restored by count_flops


def test_mha_fast_path_counted(monkeypatch):
    # keep the inference fast path on: nn.MultiheadAttention runs as one aten::_native_multi_head_attention
    monkeypatch.setattr(get_flops.torch.backends.mha, 'set_fastpath_enabled', lambda enabled: None)
    result = get_flops.count_flops(_MHA(batch_first=True, need_weights=False, mask=False), (2, 10, 64))
    assert set(result['by_operator']) == {'_native_multi_head_attention'}
    assert result['flops'] == 2 * 10 * 64 * 3 * 64 + 2 * 10 * 64 * 64 + 2 * 2 * 4 * 10 * 10 * 16


def test_prompt_cross_attention_counted():
    result = get_flops.count_flops(_CrossAttention(), (2, 5, 64))
    batch, queries, memory, dims = 2, 5, 9, 64
    expected = (
        2 * batch * queries * dims * dims  # q_proj, proj
        + 2 * batch * memory * dims * dims  # k_proj, v_proj
        + 2 * batch * queries * memory * dims)  # q k^T, attn v
    assert result['flops'] == expected


class _CrossAttention(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.attn = PromptCrossAttention(64, 4)
        self.register_buffer('memory', torch.randn(2, 9, 64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, self.memory, self.memory)


def test_positive_deterministic_and_restores_the_model():
    mit = MultiframeIntegrationTransformer(num_frames=4, embed_dims=64).train()
    first = get_flops.count_flops(mit, (2, 4, 64))
    second = get_flops.count_flops(mit, (2, 4, 64))
    assert first['flops'] > 0 and first['flops'] == second['flops']
    assert first['params'] == first['trainable_params'] == sum(p.numel() for p in mit.parameters())
    assert mit.training and 'forward' not in vars(mit)
    mit.positional_embedding.requires_grad_(False)
    assert get_flops.count_flops(mit, (2, 4, 64))['trainable_params'] == first['params'] - 4 * 64
    # longer sequences: the attention part grows quadratically
    short = get_flops.count_flops(_SDPA(), (1, 1, 8, 16))['flops']
    assert get_flops.count_flops(_SDPA(), (1, 1, 16, 16))['flops'] == 4 * short


def test_clip_vit_b16_visual_tower():
    torch.manual_seed(0)
    tower = VisionTransformer(
        image_size=224, patch_size=16, width=768, layers=12, heads=12, mlp_ratio=4.0, output_dim=512)
    result = get_flops.count_flops(tower, (1, 3, 224, 224))
    assert abs(result['flops'] / 1e9 - VIT_B16_GFLOPS) / VIT_B16_GFLOPS < 0.03
    # everything but the LayerNorms (counted by mmengine too) matches the analytic count
    assert result['flops'] - result['by_operator']['layer_norm'] == _vit_b16_analytic()
    assert result['by_operator']['scaled_dot_product_attention'] == 12 * 2 * 12 * 197 * 197 * 64
    assert set(result['uncounted']) <= get_flops.ELEMENTWISE_OPS
    report = get_flops.format_report(result, max_depth=1)
    assert '17.58 GFLOPs per view' in report and 'NO HANDLE (check these): none' in report


class _FakeClipBackbone(nn.Module):
    """``(B, 3, T, H, W)`` -> ``VideoFeatures(frame_embeds (B, T, D), patch_tokens (B, T, N, W))``."""

    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = nn.Conv3d(3, 32, (1, 4, 4), (1, 4, 4))
        self.proj = nn.Linear(32, 64)

    def forward(self, x: torch.Tensor) -> VideoFeatures:
        tokens = self.patch_embed(x).flatten(3).permute(0, 2, 3, 1)
        return VideoFeatures(frame_embeds=self.proj(tokens.mean(2)), patch_tokens=tokens)


def test_recognizer_view():
    with DefaultScope.overwrite_default_scope('videoalign'):
        recognizer = VideoRecognizer(
            backbone=dict(type=_FakeClipBackbone), neck=dict(type='MIT', num_frames=4, embed_dims=64))
    shape = get_flops.view_input_shape(recognizer, 4, 16, 16)
    assert shape == (1, 1, 3, 4, 16, 16)
    result = get_flops.count_flops(recognizer, shape)  # no head: counts up to the neck
    backbone = 4 * 16 * 32 * 3 * 16 + 4 * 32 * 64  # patch conv, proj
    neck = get_flops.count_flops(MultiframeIntegrationTransformer(num_frames=4, embed_dims=64), (1, 4, 64))['flops']
    assert result['by_module']['backbone'] == backbone
    assert result['flops'] == backbone + neck


class _CachingModel(nn.Module):
    """Computes an expensive constant once and caches it, as a head with a frozen text encoder does."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(64, 64)
        self.fc = nn.Linear(64, 64)
        self.cache = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cache is None:
            self.cache = self.encoder(torch.ones(100, 64))
        return self.fc(x) @ self.cache.t()


def test_warmup_excludes_cached_work():
    assert get_flops.count_flops(_CachingModel(), (2, 64))['flops'] == 2 * 64 * 64 + 2 * 64 * 100
    assert get_flops.count_flops(
        _CachingModel(), (2, 64), warmup=False)['flops'] == (2 * 64 * 64 + 2 * 64 * 100 + 100 * 64 * 64)


class _StubTextEncoder(nn.Module):
    """A cheap stand-in for CLIP's text encoder (its output is cached and not counted per view)."""
    embed_dim = 512
    context_length = 77

    def __init__(self) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(49408, 512)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.token_embedding(tokens).mean(1)


def test_xclip_b16_8_frames():
    """X-CLIP B/16, 8x224, 400 classes: 145 GFLOPs per view (official README), 131.5M trainable parameters."""
    import videoalign.models.backbones.clip_vit  # noqa: F401  (registers CLIPViT and its blocks)
    import videoalign.models.heads  # noqa: F401
    import videoalign.models.text.video_specific_prompt  # noqa: F401
    from videoalign.registry import MODELS
    with DefaultScope.overwrite_default_scope('videoalign'):
        model = MODELS.build(
            dict(
                type='Recognizer3D',
                backbone=dict(type='CLIPViT', arch='ViT-B/16', num_frames=8, block_cfg=dict(type='XCLIPBlock')),
                neck=dict(type='MIT', num_frames=8, embed_dims=512),
                cls_head=dict(
                    type='TextPromptHead',
                    num_classes=400,
                    in_channels=512,
                    class_names=[f'class {i}' for i in range(400)],
                    text_encoder=_StubTextEncoder(),
                    text_prompt=dict(type='VideoSpecificPrompt', embed_dims=512, visual_width=768))))
    result = get_flops.count_flops(model, get_flops.view_input_shape(model, 8, 224, 224), warmup=False)
    assert abs(result['flops'] / 1e9 - 145) / 145 < 0.03
    assert set(result['uncounted']) <= get_flops.ELEMENTWISE_OPS
    # MIT: in/out projections, attention and MLP over 8 tokens of 512, plus its 2 LayerNorms (5 per element)
    assert result['by_module']['neck'] == 8 * 512 * 4 * 512 + 2 * 8 * 8 * 512 + 2 * 8 * 512 * 2048 + 2 * 5 * 8 * 512
    assert result['trainable_params'] == 131_501_056  # xclip.md §2.6: 131.5M (the text encoder is frozen)


def test_shape_from_config():
    pipeline = [
        dict(type='DecordInit'),
        dict(type='MultiViewSegmentSample', num_segments=16, num_views=4),
        dict(type='Resize', scale=(-1, 224)),
        dict(type='ThreeCrop', crop_size=224),
    ]
    cfg = Config(dict(test_dataloader=dict(dataset=dict(type='RepeatDataset', dataset=dict(pipeline=pipeline)))))
    assert get_flops.shape_from_config(cfg) == (16, 224, 224)
    cfg = Config(
        dict(
            val_dataloader=dict(
                dataset=dict(pipeline=[
                    dict(type='SampleFrames', clip_len=8, num_clips=1),
                    dict(type='CenterCrop', crop_size=256),
                    dict(type='Resize', scale=(160, 128), keep_ratio=False),
                ]))))
    assert get_flops.shape_from_config(cfg) == (8, 128, 160)
    assert get_flops.shape_from_config(Config(dict())) == get_flops.DEFAULT_SHAPE


def test_command_line():
    out = run_tool(['python', 'tools/analysis/get_flops.py', R3D_CONFIG, '--max-depth', '1']).stdout
    assert 'Input shape: (1, 1, 3, 8, 56, 56)' in out  # clip_len 8, Resize 56x56 from the test pipeline
    assert 'GFLOPs per view' in out and 'Trainable params' in out and 'NO HANDLE (check these): none' in out
    out = run_tool(['python', 'tools/analysis/get_flops.py', R3D_CONFIG, '--shape', '4', '32', '32', '--no-table'])
    assert 'Input shape: (1, 1, 3, 4, 32, 32)' in out.stdout
    proc = run_tool(['python', 'tools/analysis/get_flops.py', R3D_CONFIG, '--shape', '8'], check=False)
    assert proc.returncode == 2 and '--shape' in proc.stderr
