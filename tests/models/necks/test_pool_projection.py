"""PoolProjection: global average pool of a feature map, then CLIP-style projection."""
import pytest
import torch

from videoalign.models.necks import PoolProjection


def test_pools_all_but_batch_and_channels_then_projects():
    neck = PoolProjection(in_channels=8, embed_dims=4)
    neck.init_weights()
    x = torch.randn(2, 8, 3, 5, 5)
    out, aux = neck(x)
    assert aux == {} and out.shape == (2, 4)
    torch.testing.assert_close(out, x.mean(dim=(2, 3, 4)) @ neck.proj.weight.t())
    assert neck.proj.bias is None
    # channel-last per-frame embeddings, and a tuple whose first item they are
    frames = torch.randn(2, 6, 8)
    last = PoolProjection(8, 4, channel_last=True)
    torch.testing.assert_close(last((frames, 'ignored'))[0], last.proj(frames.mean(1)))


def test_wrong_channels_are_named():
    with pytest.raises(ValueError, match=r'expects 8 channels on axis 1, got an input of shape \(2, 7, 3\)'):
        PoolProjection(8, 4)(torch.randn(2, 7, 3))
