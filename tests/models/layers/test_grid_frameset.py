"""DualPath's input views: grid-like framesets, sparse frames and the frame-index position code of grid images."""
import pytest
import torch
import torch.nn.functional as F

from videoalign.models.layers import (grid_frame_index_map, grid_temporal_encoding, make_grid_frameset,
                                      sample_sparse_frames)


def constant_frames(batch: int, channels: int, num_frames: int, height: int, width: int) -> torch.Tensor:
    """A clip whose frame ``t`` of video ``b``, channel ``c`` is the constant ``1000 b + 100 c + t``."""
    b = torch.arange(batch).view(-1, 1, 1, 1, 1) * 1000.
    c = torch.arange(channels).view(1, -1, 1, 1, 1) * 100.
    t = torch.arange(num_frames).view(1, 1, -1, 1, 1).float()
    return (b + c + t).expand(batch, channels, num_frames, height, width).contiguous()


@pytest.mark.parametrize('grid_width, num_frames', [(4, 16), (4, 32), (2, 8)])
def test_frame_k_lands_at_row_k_div_w_column_k_mod_w(grid_width, num_frames):
    height, width = 3, 5  # not square, so that rows and columns cannot be swapped unnoticed
    frames = constant_frames(2, 3, num_frames, height, width)
    tiled = (grid_width * height, grid_width * width)
    grids = make_grid_frameset(frames, grid_width, out_size=tiled)  # no resize
    num_grids = num_frames // grid_width**2
    assert grids.shape == (2, 3, num_grids, *tiled)
    for b in range(2):
        for c in range(3):
            for g in range(num_grids):
                for k in range(grid_width**2):
                    row, col = k // grid_width, k % grid_width
                    tile = grids[b, c, g, row * height:(row + 1) * height, col * width:(col + 1) * width]
                    expected = 1000 * b + 100 * c + g * grid_width**2 + k
                    assert torch.all(tile == expected), (b, c, g, k)


def test_resize_back_to_the_frame_size():
    frames = torch.randn(2, 3, 32, 8, 12)
    grids = make_grid_frameset(frames)
    assert grids.shape == (2, 3, 2, 8, 12)
    # bilinear without antialiasing, scale 4: output pixel i reads input rows/columns 4i + 1 and 4i + 2 (weights 1/2)
    tiled = make_grid_frameset(frames, out_size=(32, 48))
    expected = tiled.unfold(-2, 4, 4).unfold(-2, 4, 4)[..., 1:3, 1:3].mean((-1, -2))
    torch.testing.assert_close(grids, expected)
    assert not torch.allclose(make_grid_frameset(frames, antialias=True), grids)
    # a clip of one value keeps it
    flat = make_grid_frameset(torch.full((1, 3, 16, 8, 8), 0.25))
    torch.testing.assert_close(flat, torch.full((1, 3, 1, 8, 8), 0.25))
    assert make_grid_frameset(frames, out_size=(5, 6)).shape == (2, 3, 2, 5, 6)


def test_grid_frameset_bad_inputs():
    with pytest.raises(ValueError, match='multiple of 16'):
        make_grid_frameset(torch.randn(1, 3, 12, 8, 8))
    with pytest.raises(ValueError, match=r'\(B, C, T, H, W\)'):
        make_grid_frameset(torch.randn(3, 16, 8, 8))
    with pytest.raises(TypeError, match='floating-point'):
        make_grid_frameset(torch.zeros(1, 3, 16, 8, 8, dtype=torch.uint8))


def test_sparse_frames():
    frames = constant_frames(1, 1, 16, 2, 2)
    assert sample_sparse_frames(frames)[0, 0, :, 0, 0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    frames = constant_frames(1, 1, 32, 2, 2)
    assert sample_sparse_frames(frames)[0, 0, :, 0, 0].tolist() == [0, 4, 8, 12, 16, 20, 24, 28]
    assert sample_sparse_frames(frames, num=4)[0, 0, :, 0, 0].tolist() == [0, 8, 16, 24]
    with pytest.raises(ValueError, match='multiple of num=8'):
        sample_sparse_frames(torch.randn(1, 3, 12, 2, 2))


def test_index_map():
    index = grid_frame_index_map(num_grids=2)
    assert index.shape == (2, 16, 16) and index.dtype == torch.float32
    for g in range(2):
        for k in range(16):
            row, col = k // 4, k % 4
            assert torch.all(index[g, 4 * row:4 * row + 4, 4 * col:4 * col + 4] == 16 * g + k + 1)
    assert index[0, 0].tolist() == [1.] * 4 + [2.] * 4 + [3.] * 4 + [4.] * 4
    assert index[1, 15].tolist() == [29.] * 4 + [30.] * 4 + [31.] * 4 + [32.] * 4
    with pytest.raises(ValueError, match='map_size a multiple'):
        grid_frame_index_map(grid_width=3)


def interleaved_code(index: torch.Tensor, width: int) -> torch.Tensor:
    """``[sin(i f_0), cos(i f_0), sin(i f_1), ...]`` of the indices ``index`` with the CLS index 0 prepended."""
    index = torch.cat([torch.zeros(index.shape[0], 1), index.flatten(1)], dim=1).double()
    freqs = 1.0 / 10000**(torch.arange(0, width, 2).double() / width)
    code = torch.empty(*index.shape, width, dtype=torch.float64)
    code[..., 0::2] = torch.sin(index[..., None] * freqs)
    code[..., 1::2] = torch.cos(index[..., None] * freqs)
    return code.float()


def test_temporal_encoding_on_a_16x16_patch_grid():
    width = 8
    code = grid_temporal_encoding(16, width, num_grids=2)
    assert code.shape == (2, 1 + 256, width)
    # the map is not resized: token (y, x) of grid g has index 16 g + 4 (y // 4) + x // 4 + 1
    y, x = torch.meshgrid(torch.arange(16), torch.arange(16), indexing='ij')
    index = torch.stack([16 * g + 4 * (y // 4) + x // 4 + 1 for g in range(2)]).float()
    torch.testing.assert_close(code, interleaved_code(index, width), rtol=0, atol=1e-5)
    # CLS: index 0, so sin = 0 and cos = 1, interleaved
    assert code[:, 0].tolist() == [[0., 1.] * (width // 2)] * 2
    # interleaving, not [sin..., cos...]: the first two channels are sin and cos of the same angle index * 1
    torch.testing.assert_close(code[0, 1:, 0], torch.sin(index[0].flatten()))
    torch.testing.assert_close(code[0, 1:, 1], torch.cos(index[0].flatten()))


@pytest.mark.parametrize('antialias', [False, True])
def test_temporal_encoding_on_a_14x14_patch_grid(antialias):
    # a 16 -> 14 bilinear resize of the index map 4 * block_row + block_col + 1 is separable: the block coordinate
    # along each axis becomes this profile (tile borders blend; antialiasing also blurs into neighbouring cells)
    if antialias:  # torchvision >= 0.17 defaults
        profile = [0, 0, 0, .5, 1, 1, 1 + 1 / 19, 2 - 1 / 19, 2, 2, 2.5, 3, 3, 3]
    else:  # the official code's torchvision
        profile = [0, 0, 0, .5, 1, 1, 1, 2, 2, 2, 2.5, 3, 3, 3]
    profile = torch.tensor(profile)
    index = 4 * profile[:, None] + profile[None, :] + 1
    assert index[3, :5].tolist() == [3, 3, 3, 3.5, 4]
    index = torch.stack([index, index + 16])
    code = grid_temporal_encoding(14, 16, num_grids=2, antialias=antialias)
    assert code.shape == (2, 197, 16)
    torch.testing.assert_close(code, interleaved_code(index, 16), rtol=0, atol=1e-5)


def test_temporal_encoding_needs_an_even_width():
    with pytest.raises(ValueError, match='width must be even'):
        grid_temporal_encoding(14, 15)


def test_resize_matches_torchvision_tensor_resize():
    torchvision = pytest.importorskip('torchvision')
    frames = torch.randn(1, 3, 16, 12, 12)
    tiled = make_grid_frameset(frames, out_size=(48, 48)).view(3, 48, 48)
    for antialias in (False, True):
        expected = torchvision.transforms.Resize((12, 12), antialias=antialias)(tiled)
        torch.testing.assert_close(make_grid_frameset(frames, antialias=antialias).view(3, 12, 12), expected)
    # and F.interpolate is what both call
    torch.testing.assert_close(
        make_grid_frameset(frames).view(1, 3, 12, 12),
        F.interpolate(tiled[None], size=(12, 12), mode='bilinear', align_corners=False))
