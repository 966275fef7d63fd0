"""VideoFeatures: the named outputs of video backbones and necks (fields, errors, wrapping, concatenation)."""
import pytest
import torch

from videoalign.structures import TENSOR_FIELDS, VideoFeatures


def _clip_features(batch: int = 2) -> VideoFeatures:
    return VideoFeatures(
        frame_embeds=torch.randn(batch, 4, 8), patch_tokens=torch.randn(batch, 4, 9, 16), source='CLIPViT')


def test_fields_are_optional_and_named():
    assert TENSOR_FIELDS == ('frame_embeds', 'patch_tokens', 'video_tokens', 'video_embeds', 'stage_outputs', 'masks')
    empty = VideoFeatures()
    assert empty.names == () and empty.to_dict() == {} and empty.source == 'unknown'
    features = _clip_features()
    assert features.names == ('frame_embeds', 'patch_tokens')
    assert set(features.to_dict()) == {'frame_embeds', 'patch_tokens'}
    assert features.to_dict()['patch_tokens'] is features.patch_tokens
    assert repr(features) == 'VideoFeatures(frame_embeds=(2, 4, 8), patch_tokens=(2, 4, 9, 16), source=\'CLIPViT\')'
    # BEVT-style: stage maps (a list becomes a tuple) and masks; ALPRO-style: one token sequence per clip
    swin = VideoFeatures(
        stage_outputs=[torch.randn(2, 4, 8, 14, 14), torch.randn(2, 8, 8, 7, 7)],
        masks=torch.zeros(2, 8, 14, 14, dtype=torch.bool))
    assert isinstance(swin.stage_outputs, tuple) and swin.names == ('stage_outputs', 'masks')
    assert VideoFeatures(video_tokens=torch.randn(2, 197, 16)).names == ('video_tokens', )


def test_require_names_the_missing_field_the_consumer_and_the_producer():
    features = _clip_features()
    assert features.require('frame_embeds', 'MIT') is features.frame_embeds
    with pytest.raises(ValueError) as error:
        features.require('video_embeds', 'TextPromptHead')
    assert str(error.value) == ("TextPromptHead needs the field 'video_embeds' of VideoFeatures, which the features "
                                'from CLIPViT do not have (they have: frame_embeds, patch_tokens)')
    with pytest.raises(ValueError, match=r'from unknown do not have \(they have: nothing\)'):
        VideoFeatures().require('masks', 'BEVT')
    with pytest.raises(KeyError, match="'cls' is not a field"):
        features.require('cls', 'somebody')


def test_updated_keeps_the_other_fields_and_appends_the_source():
    features = _clip_features()
    video = torch.randn(2, 8)
    out = features.updated('MIT', video_embeds=video)
    assert out is not features and features.video_embeds is None  # the input is not changed
    assert out.video_embeds is video and out.frame_embeds is features.frame_embeds
    assert out.patch_tokens is features.patch_tokens and out.source == 'CLIPViT -> MIT'
    with pytest.raises(KeyError, match='not fields'):
        features.updated('MIT', video=video)


def test_checks_batch_sizes_and_types():
    with pytest.raises(ValueError, match=r'disagree on the batch size \(frame_embeds: 2, video_embeds: 3\)'):
        VideoFeatures(frame_embeds=torch.randn(2, 4, 8), video_embeds=torch.randn(3, 8))
    with pytest.raises(ValueError, match='batch size'):
        VideoFeatures(stage_outputs=(torch.randn(2, 4, 1, 1, 1), torch.randn(1, 4, 1, 1, 1)))
    with pytest.raises(TypeError, match='non-empty tuple of tensors'):
        VideoFeatures(stage_outputs=())
    with pytest.raises(TypeError, match='non-empty tuple of tensors'):
        VideoFeatures(stage_outputs=torch.randn(2, 4, 1, 1, 1))
    with pytest.raises(TypeError, match='batch-first tensors'):
        VideoFeatures(frame_embeds=[1, 2])


def test_wrap_names_bare_outputs_in_one_place():
    features = _clip_features()
    assert VideoFeatures.wrap(features) is features
    x = torch.randn(2, 8, 3, 4, 4)  # mmaction2's ResNet3d
    wrapped = VideoFeatures.wrap(x)
    assert wrapped.names == ('stage_outputs', ) and wrapped.stage_outputs[0] is x
    assert wrapped.source == 'a backbone returning a tensor (2, 8, 3, 4, 4)'
    frames = torch.randn(2, 16, 8)  # cached frame features behind torch.nn.Identity
    assert VideoFeatures.wrap(frames, tensor_field='frame_embeds').frame_embeds is frames
    stages = (torch.randn(2, 4, 1, 2, 2), x)
    wrapped = VideoFeatures.wrap(list(stages), tensor_field='frame_embeds')  # tuples are always stage maps
    assert wrapped.names == ('stage_outputs', ) and wrapped.stage_outputs[1] is x
    with pytest.raises(ValueError, match="needs the field 'frame_embeds'.*a backbone returning a tuple of 2 tensors"):
        wrapped.require('frame_embeds', 'MIT')
    with pytest.raises(KeyError, match="'cls' is not a field"):
        VideoFeatures.wrap(x, tensor_field='cls')
    with pytest.raises(TypeError, match='got str'):
        VideoFeatures.wrap('features')


def test_cat_joins_chunks_field_by_field():
    chunks = [_clip_features(2).updated('MIT', video_embeds=torch.randn(2, 8)), _clip_features(1)]
    chunks[1] = chunks[1].updated('MIT', video_embeds=torch.randn(1, 8))
    whole = VideoFeatures.cat(chunks)
    assert isinstance(whole, VideoFeatures) and whole.names == chunks[0].names
    assert whole.source == 'CLIPViT -> MIT'
    for name in whole.names:
        torch.testing.assert_close(getattr(whole, name), torch.cat([getattr(c, name) for c in chunks]))
    # stage maps stage by stage
    maps = [VideoFeatures(stage_outputs=(torch.randn(b, 4, 2, 2, 2), torch.randn(b, 8, 1, 1, 1))) for b in (2, 3)]
    joined = VideoFeatures.cat(maps)
    assert [tuple(m.shape) for m in joined.stage_outputs] == [(5, 4, 2, 2, 2), (5, 8, 1, 1, 1)]
    torch.testing.assert_close(joined.stage_outputs[1], torch.cat([m.stage_outputs[1] for m in maps]))
    # the outputs of mmaction2 backbones and heads: tensors and (nested) tuples, as Recognizer3D joins them
    tensors = [torch.randn(2, 3), torch.randn(1, 3)]
    torch.testing.assert_close(VideoFeatures.cat(tensors), torch.cat(tensors))
    pairs = VideoFeatures.cat([(t, (t, )) for t in tensors])
    assert isinstance(pairs, tuple) and pairs[0].shape == (3, 3) and pairs[1][0].shape == (3, 3)


def test_cat_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match='nothing to concatenate'):
        VideoFeatures.cat([])
    with pytest.raises(ValueError, match='fields'):
        VideoFeatures.cat([_clip_features(), VideoFeatures(frame_embeds=torch.randn(2, 4, 8))])
    with pytest.raises(TypeError, match='with other outputs'):
        VideoFeatures.cat([_clip_features(), torch.randn(2, 4, 8)])
    with pytest.raises(TypeError, match='with other outputs'):
        VideoFeatures.cat([torch.randn(2, 4, 8), _clip_features()])
    with pytest.raises(ValueError, match='different lengths'):
        VideoFeatures.cat([(torch.randn(1), ), (torch.randn(1), torch.randn(1))])
