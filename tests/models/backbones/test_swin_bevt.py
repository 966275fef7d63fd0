"""SwinTransformerBEVT: both streams' shapes, the image stream's slice of the 3D tables, masking, the official
image windows and the shape constraints (bevt.md §2, §11)."""
import pytest
import torch

from videoalign.registry import MODELS
from videoalign.testing import TINY_BEVT_BACKBONE

# window (2, 2, 2): a 3D table has 3 * 3 * 3 rows; image windows (the 2 x 2 tokens of temporal slice d = 0) read the
# rows of temporal offset 0, i.e. rows 9 .. 17
D0_ROWS = slice(9, 18)


@pytest.fixture(scope='module')
def backbone():
    torch.manual_seed(0)
    model = MODELS.build(TINY_BEVT_BACKBONE)
    model.init_weights()
    return model.eval()


def test_official_key_names_and_full_size_parameter_count():
    model = MODELS.build(dict(type='SwinTransformerBEVT'))  # BEVT-B: Swin-B, window (8, 7, 7)
    keys = set(model.state_dict())
    assert {
        'mask_token', 'norm.weight', 'lm_down.weight', 'fpn.0.weight', 'lm_down_st.0.weight', 'fpn_s.0.weight',
        'fpn_t.0.weight', 'patch_embed.proj.weight', 'patch_embed_2d.proj.weight', 'patch_embed_2d.norm.weight',
        'layers.2.blocks.17.attn.relative_position_bias_table', 'layers.3.blocks.1.mlp.fc2.bias'
    } <= keys
    assert sum(p.numel() for p in model.parameters()) == 101_282_248  # bevt_alpro_build.md: the official class
    assert model.layers[0].blocks[0].attn.relative_position_bias_table.shape == (15 * 13 * 13, 4)


def test_stream_shapes(backbone):
    video, tubes = torch.randn(2, 3, 4, 64, 64), torch.rand(2, 2, 4, 4) > 0.5
    with torch.no_grad():
        out = backbone(video, tubes)
    assert out.patch_tokens.shape == (2, 4, 16, 64)  # one token per 16 px of each of the 4 frames
    assert [tuple(s.shape) for s in out.stage_outputs] == [(2, 32, 2, 4, 4), (2, 64, 2, 2, 2)]
    assert out.masks is tubes
    images, blocks = torch.randn(3, 3, 64, 64), torch.rand(3, 4, 4) > 0.5
    with torch.no_grad():
        out = backbone(images, blocks)
    assert out.patch_tokens.shape == (3, 1, 16, 64)
    assert [tuple(s.shape) for s in out.stage_outputs] == [(3, 32, 1, 4, 4), (3, 64, 1, 2, 2)]
    assert out.masks.shape == (3, 1, 4, 4)
    with pytest.raises(ValueError, match=r'clips \(B, C, T, H, W\) or images'):
        backbone(torch.randn(3, 64, 64))


@pytest.mark.parametrize('official', [True, False])
def test_image_stream_reads_exactly_the_temporal_offset_0_rows(backbone, official):
    backbone.official_image_windows = official
    images, video = torch.randn(2, 3, 64, 64), torch.randn(1, 3, 4, 64, 64)
    tables = [block.attn.relative_position_bias_table for layer in backbone.layers for block in layer.blocks]
    saved = [table.detach().clone() for table in tables]
    try:
        with torch.no_grad():
            image_ref, video_ref = backbone(images).patch_tokens, backbone(video).patch_tokens
            for table in tables:  # change every row but those of temporal offset 0
                table[:D0_ROWS.start] += 1.
                table[D0_ROWS.stop:] -= 1.
            torch.testing.assert_close(backbone(images).patch_tokens, image_ref, rtol=0, atol=0)
            assert not torch.allclose(backbone(video).patch_tokens, video_ref)  # the video stream reads them
            for table in tables:  # and a change of the offset-0 rows reaches the images
                table[D0_ROWS] += 1.
            assert not torch.allclose(backbone(images).patch_tokens, image_ref)
    finally:
        backbone.official_image_windows = True
        with torch.no_grad():
            for table, value in zip(tables, saved):
                table.copy_(value)


def test_masked_positions_take_the_mask_token(backbone):
    everything = torch.ones(2, 4, 4, dtype=torch.bool)
    with torch.no_grad():
        first = backbone(torch.randn(2, 3, 64, 64), everything).patch_tokens
        second = backbone(torch.randn(2, 3, 64, 64), everything).patch_tokens
        torch.testing.assert_close(first, second)  # nothing of the images is left
        nothing = torch.zeros(2, 4, 4, dtype=torch.bool)
        images = torch.randn(2, 3, 64, 64)
        torch.testing.assert_close(backbone(images, nothing).patch_tokens, backbone(images).patch_tokens)
        one = nothing.clone()
        one[0, 0, 0] = True
        changed = backbone(images, one).patch_tokens != backbone(images).patch_tokens
    assert changed[0].any() and not changed[1].any()
    with pytest.raises(ValueError, match='does not fit tokens'):
        backbone(images, torch.zeros(2, 2, 4, 4, dtype=torch.bool))


def test_official_image_windows_differ_from_mmaction_windows(backbone):
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        official = backbone(images).patch_tokens
        backbone.official_image_windows = False
        try:
            fixed = backbone(images).patch_tokens
            assert not torch.allclose(official, fixed)
            # without the quirk, the image stream is the video path on a one-frame clip (minus the decoders)
            one_frame = backbone._encode(backbone.patch_embed_2d(images).unsqueeze(2), image=True)
            as_video = backbone._encode(backbone.patch_embed_2d(images).unsqueeze(2), image=False)
            torch.testing.assert_close(one_frame, as_video)
        finally:
            backbone.official_image_windows = True


def test_shape_constraints(backbone):
    with pytest.raises(ValueError, match='no padding'):  # maps 12, 6, 3: not multiples of the window 2
        backbone(torch.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match='stage-3 map to be twice the stage-4 map'):
        backbone(torch.randn(1, 3, 4, 48, 48))  # stage 3: 3x3, stage 4: 2x2 (padded)
    with pytest.raises(ValueError, match='arch must be one of'):
        MODELS.build(dict(TINY_BEVT_BACKBONE, arch='huge'))
