"""FrameAverageHead: the logits of mmaction2's I3DHead on AIM's (B, D, T, 1, 1) features, init, loss, prediction."""
import pytest
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample

from videoalign.models.heads import FrameAverageHead
from videoalign.registry import MODELS
from videoalign.structures import VideoFeatures


def test_matches_i3d_head_on_the_official_layout():
    from mmaction.models.heads import I3DHead  # AIM's head: AdaptiveAvgPool3d -> dropout -> fc_cls
    torch.manual_seed(0)
    head = MODELS.build(dict(type='FrameAverageHead', num_classes=7, in_channels=16)).eval()
    i3d = I3DHead(num_classes=7, in_channels=16).eval()
    assert set(head.state_dict()) == set(i3d.state_dict()) == {'fc_cls.weight', 'fc_cls.bias'}
    i3d.load_state_dict(head.state_dict())
    frames = torch.randn(3, 8, 16)  # (B, T, D) per-frame CLS tokens
    with torch.no_grad():
        expected = i3d(frames.transpose(1, 2)[..., None, None])  # (B, D, T, 1, 1) as the official backbone
        torch.testing.assert_close(head(frames), expected)
        torch.testing.assert_close(head(frames.mean(1)), expected)  # (B, D) is taken as it is
        # it reads frame_embeds of the backbone's named features, whatever else they hold
        features = VideoFeatures(frame_embeds=frames, patch_tokens=torch.zeros(3, 8, 4, 2), source='CLIPViT')
        torch.testing.assert_close(head(features), expected)
        torch.testing.assert_close(
            head.loss(features, [ActionDataSample().set_gt_label(0)] * 3)['loss_cls'],
            F.cross_entropy(expected, torch.zeros(3, dtype=torch.long)))
    with pytest.raises(ValueError, match="FrameAverageHead needs the field 'frame_embeds'.*from CLIPViT"):
        head(VideoFeatures(patch_tokens=torch.zeros(3, 8, 4, 2), source='CLIPViT'))


def test_init_and_dropout():
    torch.manual_seed(0)
    head = FrameAverageHead(num_classes=400, in_channels=768)
    head.fc_cls.bias.data.fill_(1.)
    head.init_weights()
    assert head.fc_cls.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert not head.fc_cls.bias.any()
    assert head.dropout.p == 0.5
    head.train()
    x = torch.ones(2, 4, 768)
    assert not torch.equal(head(x), head(x))  # dropout is on in training
    assert isinstance(FrameAverageHead(5, 8, dropout_ratio=0.).dropout, torch.nn.Identity)


def test_loss_with_label_smoothing_and_prediction():
    torch.manual_seed(0)
    head = FrameAverageHead(num_classes=5, in_channels=8, dropout_ratio=0., label_smooth_eps=0.1, average_clips='prob')
    feats = torch.randn(4, 3, 8)
    samples = [ActionDataSample().set_gt_label(i) for i in range(4)]
    losses = head.loss(feats, samples)
    logits = head(feats)
    target = 0.9 * F.one_hot(torch.arange(4), 5) + 0.1 / 5
    torch.testing.assert_close(losses['loss_cls'], -(target * logits.log_softmax(-1)).sum(-1).mean())
    # 2 videos x 2 views: softmax scores averaged over the views of each video
    preds = head.predict(feats, [ActionDataSample() for _ in range(2)])
    expected = logits.softmax(-1).view(2, 2, 5).mean(1)
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), expected)


def test_bad_input():
    head = FrameAverageHead(num_classes=5, in_channels=8)
    with pytest.raises(ValueError, match=r'\(B, T, D\) or \(B, D\)'):
        head(torch.randn(2, 8, 4, 1, 1))
    with pytest.raises(ValueError, match='in_channels=8'):
        head(torch.randn(2, 4, 16))
    with pytest.raises(ValueError, match='dropout_ratio'):
        FrameAverageHead(5, 8, dropout_ratio=1.)
