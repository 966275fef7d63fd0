"""VideoRecognizer: freezing by name pattern, the logged table, the no-grad frozen backbone, named features."""
import pytest
import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.structures import ActionDataSample
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from videoalign.models.recognizers.video_recognizer import parameter_table
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures

ARCH = dict(embed_dim=16, vision=dict(image_size=16, patch_size=8, width=16, layers=1, heads=2))


class _VideoLinearHead(BaseHead):
    """``fc_cls(video_embeds)``: a linear head on the neck's named output."""

    def __init__(self, num_classes: int, in_channels: int, **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def forward(self, x: VideoFeatures, **kwargs) -> torch.Tensor:
        return self.fc_cls(x.require('video_embeds', type(self).__name__))


def build(**kwargs):
    init_default_scope('videoalign')
    model = MODELS.build(
        dict(
            type='VideoRecognizer',
            backbone=dict(
                type='CLIPViT',
                arch=ARCH,
                num_frames=2,
                use_proj=False,
                use_temporal_embedding=True,
                block_cfg=dict(type='AIMBlock')),
            neck=dict(type='MultiframeIntegrationTransformer', num_frames=2, embed_dims=16, num_layers=1),
            data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'),
            **{
                'cls_head': dict(type=_VideoLinearHead, num_classes=3, in_channels=16),
                **kwargs
            }))
    model.init_weights()
    return model


def loss_backward(model):
    model.train()
    inputs = torch.randn(2, 1, 3, 2, 16, 16)
    losses = model.loss(inputs, [ActionDataSample().set_gt_label(i) for i in range(2)])
    sum(losses.values()).backward()


def test_trainable_patterns_freeze_the_rest_and_gradients_follow():
    model = build(trainable=('adapter', 'temporal_embedding', 'cls_head'), frozen=('mlp_adapter', ))
    loss_backward(model)
    for name, param in model.named_parameters():
        meant = any(p in name for p in ('adapter', 'temporal_embedding', 'cls_head')) and 'mlp_adapter' not in name
        assert param.requires_grad == meant, name
        if not meant:
            assert param.grad is None, name
    # the neck matches no trainable pattern: frozen too
    assert not any(p.requires_grad for p in model.neck.parameters())


def test_freezing_never_unfreezes_and_bad_patterns_are_refused():
    text_arch = dict(embed_dim=16, text=dict(context_length=8, vocab_size=49408, width=16, heads=2, layers=1))
    head = dict(
        type='TextPromptHead',
        num_classes=None,
        in_channels=16,
        class_names=['a', 'b'],
        text_encoder=dict(type='CLIPTextEncoder', arch=text_arch),
        freeze_text=True)
    model = build(trainable=('cls_head', ), cls_head=head)
    assert model.cls_head.text_encoder.token_embedding.weight.requires_grad is False  # the head froze it itself
    assert all(p.requires_grad == ('text_encoder' not in n and 'logit_scale' not in n)
               for n, p in model.cls_head.named_parameters())
    with pytest.raises(ValueError, match="'no_such_module' matches no parameter"):
        build(trainable=('no_such_module', ))
    with pytest.raises(TypeError, match='list of non-empty name substrings'):
        build(trainable='cls_head')


def test_table_counts_every_parameter():
    model = build(trainable=('cls_head', ))
    table = parameter_table(model)
    total = sum(p.numel() for p in model.parameters())
    head = sum(p.numel() for p in model.cls_head.parameters())
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:]}
    assert lines['cls_head'] == [f'{head:,}', '0']
    assert lines['total'] == [f'{head:,}', f'{total - head:,}']
    assert set(lines) == {'backbone', 'neck', 'cls_head', 'total'}


def test_table_is_logged(capsys):
    MMLogger.get_instance('test_video_recognizer', log_level='INFO')
    build(trainable=('cls_head', ))
    assert 'parameters of VideoRecognizer' in capsys.readouterr().out


def test_frozen_backbone_runs_without_autograd_and_stays_in_eval_mode():
    model = build(trainable=('neck', 'cls_head'))
    assert model.backbone_frozen
    model.train()
    assert not model.backbone.training and model.neck.training
    inputs = torch.randn(2, 1, 3, 2, 16, 16)
    feats, _ = model.extract_feat(inputs, stage='backbone')
    assert feats.names == ('frame_embeds', 'patch_tokens')
    assert not feats.frame_embeds.requires_grad and not feats.patch_tokens.requires_grad
    feats, kwargs = model.extract_feat(inputs)
    assert feats.video_embeds.requires_grad and not feats.frame_embeds.requires_grad and kwargs['loss_aux'] == {}
    logits, _ = model.extract_feat(inputs, stage='head')
    assert logits.shape == (2, 3) and logits.requires_grad
    loss_backward(model)
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is not None for p in model.neck.parameters())


@pytest.mark.parametrize('stage', ['backbone', 'neck', 'head'])
def test_stages_in_tensor_mode_and_chunked_test_views(stage):
    """``mode='tensor'`` gives named features as a dict (logits for the head), the same in and out of chunks."""
    model = build().eval()
    inputs = torch.randn(1, 3, 3, 2, 16, 16)  # one video, three views
    with torch.no_grad():
        out = model(inputs, mode='tensor', stage=stage)
        whole, _ = model.extract_feat(inputs, test_mode=True)
        model.test_cfg = dict(max_testing_views=2)
        chunked, kwargs = model.extract_feat(inputs, test_mode=True)
    fields = {'backbone': {'frame_embeds', 'patch_tokens'}, 'neck': {'frame_embeds', 'patch_tokens', 'video_embeds'}}
    if stage == 'head':
        assert isinstance(out, torch.Tensor) and out.shape == (3, 3)
    else:
        assert isinstance(out, dict) and set(out) == fields[stage]
    assert isinstance(chunked, VideoFeatures) and kwargs == dict(fcn_test=False)
    torch.testing.assert_close(chunked.to_dict(), whole.to_dict())
    with pytest.raises(ValueError, match='batch size of 1'):
        model.extract_feat(torch.randn(2, 3, 3, 2, 16, 16), test_mode=True)


def test_mmaction_backbone_and_head_keep_tensors():
    """A ResNet3d (a bare tensor) and an mmaction2 head without a neck: nothing is named, chunks join as tensors."""
    init_default_scope('videoalign')
    model = MODELS.build(
        dict(
            type='VideoRecognizer',
            backbone=dict(
                type='ResNet3d',
                depth=18,
                base_channels=4,
                pretrained=None,
                pretrained2d=False,
                inflate=(1, 1, 1, 1),
                conv1_stride_t=1,
                pool1_stride_t=1),
            cls_head=dict(type='I3DHead', num_classes=3, in_channels=32, average_clips='prob'),
            test_cfg=dict(max_testing_views=2))).eval()
    inputs = torch.randn(1, 3, 3, 4, 32, 32)
    with torch.no_grad():
        assert isinstance(model(inputs, mode='tensor', stage='backbone'), torch.Tensor)
        chunked, _ = model.extract_feat(inputs, test_mode=True)
        model.test_cfg = None
        whole, _ = model.extract_feat(inputs, test_mode=True)
        preds = model.predict(inputs, [ActionDataSample()])
    assert isinstance(chunked, torch.Tensor)
    torch.testing.assert_close(chunked, whole)
    assert preds[0].pred_score.shape == (3, )
