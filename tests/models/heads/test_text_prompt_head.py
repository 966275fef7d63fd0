"""Tests of TextPromptHead: the class-text cache, freezing, losses with hard/soft/smoothed labels, prediction."""
import copy
import math

import open_clip
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.utils import MixupBlending
from mmaction.structures import ActionDataSample

from videoalign.models.heads import TextPromptHead
from videoalign.models.text import TEMPLATES, ClassTextBank, CLIPTextEncoder, CLIPTokenizer
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

CLASSES = ['abseiling', 'playing_guitar', 'riding a bike', 'surfing water']
ENCODER = dict(type='CLIPTextEncoder', arch='tiny')
DIM = 32


class AddPrompt(nn.Module):
    """A stand-in for X-CLIP's video-specific prompt: ``alpha * text + proj(mean of the visual tokens)``."""

    def __init__(self, visual_dim: int = 8) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.full((DIM, ), 0.1))
        self.proj = nn.Linear(visual_dim, DIM)

    def forward(self, text: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        return self.alpha * text + self.proj(visual.mean(dim=1))[:, None]


def _head(**kwargs) -> TextPromptHead:
    torch.manual_seed(0)
    cfg = dict(
        type='TextPromptHead', num_classes=len(CLASSES), in_channels=DIM, class_names=CLASSES, text_encoder=ENCODER)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(labels) -> list:
    samples = []
    for label in labels:
        sample = ActionDataSample()
        sample.set_gt_label(label)
        samples.append(sample)
    return samples


def _count_calls(module: nn.Module) -> list:
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def _text_reference(head: TextPromptHead, names, template: str = '{}') -> torch.Tensor:
    """Normalised text embeddings computed by hand: open_clip tokens through the head's encoder (calling
    ``forward`` directly, so that the hooks counting the head's encoder calls do not see it)."""
    tokens = open_clip.tokenize([template.replace('{}', n.replace('_', ' ')) for n in names])
    with torch.no_grad():
        return F.normalize(head.text_encoder.forward(tokens), dim=-1)


def test_logits_are_scaled_cosine():
    head = _head()
    assert head.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    video = torch.randn(3, DIM)
    expected = (1 / 0.07) * F.normalize(video, dim=-1) @ _text_reference(head, CLASSES).t()
    torch.testing.assert_close(head(video), expected, atol=1e-5, rtol=1e-5)
    # the video_embeds of named features (the other fields are not read without a text_prompt)
    features = VideoFeatures(frame_embeds=torch.randn(3, 2, DIM), video_embeds=video, source='CLIPViT -> MIT')
    torch.testing.assert_close(head(features), expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(
            ValueError,
            match="TextPromptHead needs the field 'video_embeds'.*from CLIPViT do not have "
            r'\(they have: frame_embeds\)'):
        head(VideoFeatures(frame_embeds=torch.randn(3, 2, DIM), source='CLIPViT'))


def test_cache_computed_once_and_refreshed_on_new_class_names():
    head = _head()
    calls = _count_calls(head.text_encoder)
    video = torch.randn(2, DIM)
    first = head(video)
    second = head(video)
    assert len(calls) == 1
    torch.testing.assert_close(first, second)
    head.eval()
    head(video)
    assert len(calls) == 1

    new_names = ['cooking', 'dancing ballet', 'juggling']
    head.set_class_names(new_names)
    assert head.num_classes == 3 and head.class_names == new_names
    third = head(video)
    assert len(calls) == 2 and third.shape == (2, 3)
    expected = (1 / 0.07) * F.normalize(video, dim=-1) @ _text_reference(head, new_names).t()
    torch.testing.assert_close(third, expected, atol=1e-5, rtol=1e-5)
    # same size, other names: the logits change
    head.set_class_names(['x', 'y', 'z'])
    assert not torch.allclose(head(video), third)
    assert len(calls) == 3


def test_cache_refreshed_on_templates_weights_and_dtype():
    head = _head()
    calls = _count_calls(head.text_encoder)
    video = torch.randn(2, DIM)
    bare = head(video)
    head.set_templates('video')
    video_template = head(video)
    assert len(calls) == 2 and not torch.allclose(bare, video_template)
    expected = (1 / 0.07) * F.normalize(video, dim=-1) @ _text_reference(head, CLASSES, TEMPLATES['video'][0]).t()
    torch.testing.assert_close(video_template, expected, atol=1e-5, rtol=1e-5)

    # new weights loaded in place (as a checkpoint loader does)
    other = CLIPTextEncoder(arch='tiny')
    head.text_encoder.load_state_dict(other.state_dict())
    reloaded = head(video)
    assert len(calls) == 3 and not torch.allclose(reloaded, video_template)
    head(video)
    assert len(calls) == 3

    # a copy (new storages, as after a move to another device) recomputes its own cache
    copied = copy.deepcopy(head)
    torch.testing.assert_close(copied(video), reloaded)
    assert len(calls) == 4


class TokenMean(nn.Module):
    """A minimal text encoder: mean of the token embeddings, ``(N, L)`` -> ``(N, D)``."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(49408, DIM)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embedding(tokens).mean(dim=1)


def test_bank_recomputes_after_dtype_change_and_batches_prompts():
    encoder = TokenMean().requires_grad_(False)
    calls = _count_calls(encoder)
    bank = ClassTextBank(CLIPTokenizer(), CLASSES, templates=TEMPLATES['ensemble'][:3], batch_size=5)
    first = bank(encoder)
    assert first.shape == (4, DIM) and len(calls) == 3  # 12 prompts in batches of 5
    assert bank(encoder) is first and len(calls) == 3
    encoder.double()
    second = bank(encoder)
    assert second.dtype == torch.float64 and len(calls) == 6
    torch.testing.assert_close(second.float(), first)
    torch.testing.assert_close(second.norm(dim=-1), torch.ones(4, dtype=torch.float64))
    bank.invalidate()
    bank(encoder)
    assert len(calls) == 9

    raw = ClassTextBank(CLIPTokenizer(), CLASSES, normalize=False)
    torch.testing.assert_close(raw(encoder), encoder.forward(raw.tokens()))


def test_template_ensemble_is_mean_of_normalised_embeddings():
    templates = list(TEMPLATES['ensemble'][:3])
    head = _head(templates=templates)
    video = torch.randn(2, DIM)
    per_template = torch.stack([_text_reference(head, CLASSES, t) for t in templates], dim=1)  # (K, M, D)
    text = F.normalize(per_template.mean(dim=1), dim=-1)
    torch.testing.assert_close(head.class_embeddings(), text, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(head(video), (1 / 0.07) * F.normalize(video, dim=-1) @ text.t(), atol=1e-5, rtol=1e-5)


def test_cache_not_in_state_dict_and_no_train_side_effects():
    head = _head()
    head.eval()
    head(torch.randn(2, DIM))
    keys = set(head.state_dict())
    assert keys == {'logit_scale'} | {f'text_encoder.{k}' for k in head.text_encoder.state_dict()}
    assert not head.training and not head.text_encoder.training
    head.train()
    head(torch.randn(2, DIM))
    assert head.training and not head.text_encoder.training  # a frozen encoder stays in eval mode


def test_frozen_text_gets_no_gradient():
    head = _head()
    video = torch.randn(4, DIM, requires_grad=True)
    losses = head.loss(video, _samples([0, 1, 2, 3]))
    losses['loss_cls'].backward()
    assert video.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in head.text_encoder.parameters())
    assert head.logit_scale.grad is None and not head.logit_scale.requires_grad
    assert [n for n, p in head.named_parameters() if p.requires_grad] == []


def test_trainable_text_gets_gradients_and_is_not_cached():
    head = _head(freeze_text=False, freeze_logit_scale=False)
    calls = _count_calls(head.text_encoder)
    head.train()
    assert head.text_encoder.training
    video = torch.randn(4, DIM)
    head.loss(video, _samples([0, 1, 2, 3]))['loss_cls'].backward()
    head(video)
    assert len(calls) == 2
    grads = {n: p.grad for n, p in head.named_parameters()}
    assert all(g is not None for g in grads.values())
    assert grads['text_encoder.text_projection'].abs().sum() > 0
    assert grads['logit_scale'].abs() > 0


def test_text_prompt_per_video_embeddings_and_exact_gradients():
    prompt = AddPrompt()
    head = _head(text_prompt=prompt)
    trainable = {n for n, p in head.named_parameters() if p.requires_grad}
    assert trainable == {'text_prompt.alpha', 'text_prompt.proj.weight', 'text_prompt.proj.bias'}

    video, visual = torch.randn(3, DIM), torch.randn(3, 5, 8)
    features = VideoFeatures(video_embeds=video, patch_tokens=visual)
    logits = head(features)
    # X-CLIP: the prompt is added to the unnormalised text features, then both sides are normalised
    tokens = open_clip.tokenize([n.replace('_', ' ') for n in CLASSES])
    with torch.no_grad():
        text = head.text_encoder(tokens).unsqueeze(0).expand(3, -1, -1)
        text = F.normalize(text + prompt(text, visual), dim=-1)
        expected = (1 / 0.07) * torch.einsum('bd,bkd->bk', F.normalize(video, dim=-1), text)
    torch.testing.assert_close(logits, expected, atol=1e-5, rtol=1e-5)

    head.zero_grad()
    head.loss(features, _samples([0, 1, 3]))['loss_cls'].backward()
    with_grad = {n for n, p in head.named_parameters() if p.grad is not None}
    assert with_grad == trainable

    with pytest.raises(ValueError, match="TextPromptHead with a text_prompt needs the field 'patch_tokens'"):
        head(video)


def test_loss_hard_soft_and_smoothed_labels():
    head = _head()
    video = torch.randn(4, DIM)
    labels = torch.tensor([0, 3, 1, 1])
    logits = head(video)
    num_classes = len(CLASSES)

    losses = head.loss(video, _samples(labels.tolist()))
    torch.testing.assert_close(losses['loss_cls'], F.cross_entropy(logits, labels))
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'}
    top1 = (logits.argmax(dim=1) == labels).float().mean()
    assert losses['top1_acc'].item() == pytest.approx(top1.item())

    # mixup-blended soft labels, as mmaction2's ActionDataPreprocessor makes them
    torch.manual_seed(1)
    _, blended = MixupBlending(
        num_classes=num_classes, alpha=0.8)(torch.randn(4, 3, 2, 8, 8), _samples(labels.tolist()))
    soft = torch.stack([s.gt_label for s in blended])
    assert soft.shape == (4, num_classes) and not torch.equal(soft, F.one_hot(labels, num_classes).float())
    losses = head.loss(video, blended)
    expected = -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(losses['loss_cls'], expected)

    # label smoothing, hard then soft labels
    eps = 0.1
    smooth_head = _head(label_smooth_eps=eps)
    smoothed = (1 - eps) * F.one_hot(labels, num_classes).float() + eps / num_classes
    expected = -(smoothed * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(smooth_head.loss(video, _samples(labels.tolist()))['loss_cls'], expected)
    smoothed = (1 - eps) * soft + eps / num_classes
    expected = -(smoothed * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(smooth_head.loss(video, blended)['loss_cls'], expected)

    # after a class-list change, smoothing is over the new number of classes
    smooth_head.set_class_names(CLASSES + ['juggling'])
    logits = smooth_head(video)
    smoothed = (1 - eps) * F.one_hot(labels, 5).float() + eps / 5
    expected = -(smoothed * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(smooth_head.loss(video, _samples(labels.tolist()))['loss_cls'], expected)


def test_predict_averages_views():
    head = _head(average_clips='prob')
    head.eval()
    views = torch.randn(3 * 2, DIM)  # 3 videos x 2 views, views of a video adjacent
    with torch.no_grad():
        samples = head.predict(views, _samples([0, 1, 2]))
        logits = head(views)
    probs = F.softmax(logits, dim=1).view(3, 2, -1).mean(dim=1)
    scores = torch.stack([s.pred_score for s in samples])
    assert scores.shape == (3, len(CLASSES))
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(3))
    torch.testing.assert_close(scores, probs)
    assert [s.pred_label.item() for s in samples] == probs.argmax(dim=1).tolist()


def test_cache_made_under_inference_mode_is_usable_in_training():
    head = _head()
    with torch.inference_mode():
        head(torch.randn(2, DIM))
    video = torch.randn(2, DIM, requires_grad=True)
    head(video).sum().backward()
    assert video.grad is not None


def test_class_names_are_data_and_argument_errors(tmp_path):
    path = tmp_path / 'labels.csv'
    path.write_text('id,name\n1,surfing\n0,abseiling\n')
    with pytest.raises(TypeError, match='got the file name .*labels.csv.*read by the dataset'):
        _head(num_classes=None, class_names=str(path))  # a model builds without the dataset's files
    head = _head(num_classes=None, class_names=None)
    assert head.class_names == [] and head.num_classes == 0
    with pytest.raises(RuntimeError, match='has no class names to score: they come from the dataset'):
        head(torch.randn(2, DIM))
    head.set_class_names(['abseiling', 'surfing'])
    assert head.num_classes == 2 and head(torch.randn(3, DIM)).shape == (3, 2)
    with pytest.raises(ValueError, match='num_classes is 3 but class_names holds 4 names'):
        _head(num_classes=3)
    with pytest.raises(ValueError, match=r'in_channels \(16\) must equal the embed_dim of the text encoder \(32\)'):
        _head(in_channels=16)
    with pytest.raises(ValueError, match=r'expects video embeddings of shape \(B, 32\)'):
        _head()(torch.randn(2, 16))
