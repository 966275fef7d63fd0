"""PoolProjection: global average pool of a feature map, then CLIP-style projection."""
import pytest
import torch

from videoalign.models.necks import PoolProjection
from videoalign.structures import VideoFeatures


def test_pools_all_but_batch_and_channels_then_projects():
    neck = PoolProjection(in_channels=8, embed_dims=4)
    neck.init_weights()
    x = torch.randn(2, 8, 3, 5, 5)  # mmaction2's ResNet3d returns a bare feature map
    out, aux = neck(x)
    assert aux == {} and out.names == ('video_embeds', 'stage_outputs') and out.video_embeds.shape == (2, 4)
    torch.testing.assert_close(out.video_embeds, x.mean(dim=(2, 3, 4)) @ neck.proj.weight.t())
    assert out.stage_outputs[0] is x and neck.proj.bias is None
    # several stage maps (a tuple, or named features): the last one is pooled
    stages = (torch.randn(2, 4, 3, 10, 10), x)
    torch.testing.assert_close(neck(stages)[0].video_embeds, out.video_embeds)
    torch.testing.assert_close(neck(VideoFeatures(stage_outputs=stages))[0].video_embeds, out.video_embeds)
    # channel-last: the per-frame embeddings of a CLIP backbone (or a bare (B, T, C) tensor)
    frames = torch.randn(2, 6, 8)
    last = PoolProjection(8, 4, channel_last=True)
    features = VideoFeatures(frame_embeds=frames, patch_tokens=torch.randn(2, 6, 3, 5), source='CLIPViT')
    out, _ = last(features)
    torch.testing.assert_close(out.video_embeds, last.proj(frames.mean(1)))
    assert out.patch_tokens is features.patch_tokens and out.source == 'CLIPViT -> PoolProjection'
    torch.testing.assert_close(last(frames)[0].video_embeds, out.video_embeds)
    with pytest.raises(ValueError, match="PoolProjection needs the field 'stage_outputs'.*from CLIPViT"):
        neck(features)


def test_wrong_channels_are_named():
    with pytest.raises(ValueError, match=r'expects 8 channels on axis 1, got an input of shape \(2, 7, 3\)'):
        PoolProjection(8, 4)(torch.randn(2, 7, 3))
