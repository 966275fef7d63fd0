"""BEVTPretrainer: one step over a video batch and an image batch trains exactly the encoder, decoders and lm_head,
never the dVAE; the tiny pretraining loss falls."""
import pytest
import torch

from videoalign.registry import MODELS
from videoalign.testing import tiny_bevt_batches as batches
from videoalign.testing import tiny_bevt_pretrainer


@pytest.fixture
def model():
    torch.manual_seed(0)
    pretrainer = MODELS.build(tiny_bevt_pretrainer(data_preprocessor=None))
    pretrainer.init_weights()
    return pretrainer.train()


def test_losses_of_both_streams(model):
    video, image = batches()
    losses = model(video, image, mode='loss')
    assert set(losses) == {'loss_cls_3d', 'mask_acc_3d', 'loss_cls_2d', 'mask_acc_2d'}
    assert 3. < losses['loss_cls_3d'].item() < 5.5  # about ln(64) = 4.16 at initialisation
    only_video = model(inputs=video['inputs'], mode='loss')
    assert set(only_video) == {'loss_cls_3d', 'mask_acc_3d'}
    features = model(video, image, mode='tensor')
    assert [tuple(f.patch_tokens.shape) for f in features] == [(2, 4, 16, 64), (4, 1, 16, 64)]
    with pytest.raises(ValueError, match='two 3d batches'):
        model(video, video)
    with pytest.raises(ValueError, match='modes "loss" and "tensor"'):
        model(video, mode='predict')


def test_gradients_reach_exactly_the_trainable_parameters(model):
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {name for name, _ in model.named_parameters() if name.startswith('cls_head.vae_encoder.')}
    assert sum(p.numel() for n, p in model.named_parameters() if n in frozen) == 156_008  # the tiny dVAE
    losses = model(*batches(), mode='loss')
    (losses['loss_cls_3d'] + losses['loss_cls_2d']).backward()
    reached = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert reached == trainable  # every trainable parameter, the mask token, both patch embeddings and decoders
    # the optimizer keeps no state for the dVAE
    optimizer = torch.optim.AdamW([p for p in model.parameters()], lr=1e-3)
    optimizer.step()
    with_state = {name for name, p in model.named_parameters() if p in optimizer.state}
    assert with_state == trainable


def test_one_stream_leaves_the_other_streams_parameters_alone(model):
    video, _ = batches()
    model(video)['loss_cls_3d'].backward()
    untouched = {name for name, p in model.named_parameters() if p.requires_grad and p.grad is None}
    assert untouched == {
        'backbone.patch_embed_2d.proj.weight', 'backbone.patch_embed_2d.proj.bias',
        'backbone.patch_embed_2d.norm.weight', 'backbone.patch_embed_2d.norm.bias', 'backbone.lm_down.weight',
        'backbone.lm_down.bias', 'backbone.fpn.0.weight', 'backbone.fpn.0.bias'
    }


def test_the_loss_falls(model):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    video, image = batches()
    first = None
    for _ in range(15):
        losses = model(video, image)
        loss = losses['loss_cls_3d'] + losses['loss_cls_2d']
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.7 * first
