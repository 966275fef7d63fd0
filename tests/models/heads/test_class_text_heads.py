"""The text-classifier heads share a base, not each other: ClassTextHead, TextPromptHead, LearnablePromptHead."""
import inspect
import math

import pytest
import torch
import torch.nn.functional as F

from videoalign.models.heads import ClassTextHead, LearnablePromptHead, TextPromptHead
from videoalign.models.layers import scaled_cosine_similarity
from videoalign.models.text import CLIPTextEncoder
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

NAMES = ['run', 'jump', 'swim']
ENCODER = dict(type='CLIPTextEncoder', arch='tiny')  # embed_dim 32, context 77
DIM = 32


def _build(**kwargs) -> ClassTextHead:
    torch.manual_seed(0)
    return MODELS.build({**dict(num_classes=None, in_channels=DIM, class_names=NAMES, text_encoder=ENCODER), **kwargs})


def _text_prompt_head(**kwargs) -> TextPromptHead:
    return _build(type='TextPromptHead', **kwargs)


def _learnable_prompt_head(**kwargs) -> LearnablePromptHead:
    return _build(type='LearnablePromptHead', prompt=dict(type='LearnablePrompt', prefix=4, postfix=4), **kwargs)


def test_siblings_on_one_base():
    assert issubclass(TextPromptHead, ClassTextHead) and issubclass(LearnablePromptHead, ClassTextHead)
    assert not issubclass(LearnablePromptHead, TextPromptHead) and not issubclass(TextPromptHead, LearnablePromptHead)
    assert inspect.isabstract(ClassTextHead)
    with pytest.raises(TypeError, match='abstract'):
        ClassTextHead(None, DIM, NAMES, ENCODER)
    # neither refuses what the other has: the templates belong to TextPromptHead only
    assert hasattr(TextPromptHead, 'set_templates') and not hasattr(LearnablePromptHead, 'set_templates')
    for cls in (TextPromptHead, LearnablePromptHead):
        assert cls.forward is ClassTextHead.forward  # one score computation


def _keys(module: torch.nn.Module, prefix: str) -> set:
    return {prefix + key for key in module.state_dict()}


def test_state_dict_keys_are_unchanged():
    """The keys that the converted official checkpoints (xclip, efficient_prompt) load into."""
    encoder = _keys(CLIPTextEncoder('tiny'), 'text_encoder.')
    head = _text_prompt_head()
    assert set(head.state_dict()) == {'logit_scale'} | encoder
    prompted = _text_prompt_head(
        text_prompt=dict(type='VideoSpecificPrompt', embed_dims=DIM, visual_width=64, num_layers=1))
    assert set(prompted.state_dict()) == {'logit_scale'} | encoder | _keys(prompted.text_prompt, 'text_prompt.')
    assert any(key.startswith('text_prompt.decoder.0.') for key in prompted.state_dict())
    learnable = _learnable_prompt_head()
    assert set(learnable.state_dict()) == encoder | {'prompt.embedding.weight'}
    # its fixed temperature is a non-persistent buffer, X-CLIP's logit_scale a frozen parameter
    assert 'logit_scale' in dict(learnable.named_buffers()) and 'logit_scale' not in dict(learnable.named_parameters())
    assert learnable.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    assert not head.logit_scale.requires_grad and 'logit_scale' in dict(head.named_parameters())
    assert _text_prompt_head(freeze_logit_scale=False).logit_scale.requires_grad


@pytest.mark.parametrize('build', [_text_prompt_head, _learnable_prompt_head])
def test_shared_behaviour(build):
    head = build().eval()
    assert head.class_names == NAMES and head.num_classes == 3
    assert not any(p.requires_grad for p in head.text_encoder.parameters())
    head.train()
    assert not head.text_encoder.training  # a frozen text tower stays in eval mode
    head.eval()
    video = torch.randn(4, DIM)
    logits = head(video)
    expected = scaled_cosine_similarity(video, head.class_embeddings(), head.logit_scale.exp())
    torch.testing.assert_close(logits, expected)
    text = head.class_embeddings()
    torch.testing.assert_close(logits, head.logit_scale.exp() * F.normalize(video, dim=-1) @ text.t())
    # it reads video_embeds of the neck's named features
    features = VideoFeatures(frame_embeds=torch.randn(4, 2, DIM), video_embeds=video, source='CLIPViT -> MIT')
    torch.testing.assert_close(head(features), logits)
    name = type(head).__name__
    with pytest.raises(ValueError, match=f"{name} needs the field 'video_embeds'.*from CLIPViT do not have"):
        head(VideoFeatures(frame_embeds=torch.randn(4, 2, DIM), source='CLIPViT'))
    with pytest.raises(ValueError, match=rf'{name} expects video embeddings of shape \(B, 32\)'):
        head(torch.randn(4, 16))
    head.set_class_names(['walk', 'sit'])
    assert head.num_classes == 2 and head(video).shape == (4, 2)
    with pytest.raises(ValueError, match='num_classes is 2'):
        build(num_classes=2)
    with pytest.raises(ValueError, match='in_channels'):
        build(in_channels=16)
