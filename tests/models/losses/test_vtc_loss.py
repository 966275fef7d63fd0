"""ALPRO's VTC loss: the official formula, the temperature clamp, gradients, and two gloo ranks against one batch."""
import os
from typing import Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

from videoalign.models.losses import (VTCLoss, all_gather_with_grad, clamp_temperature_, vtc_loss_from_similarities,
                                      vtc_similarities)
from videoalign.registry import MODELS
from videoalign.testing import free_port


def official_vtc(video_feat: torch.Tensor, text_feat: torch.Tensor, gathered_video: torch.Tensor,
                 gathered_text: torch.Tensor, temp: torch.Tensor, rank: int) -> torch.Tensor:
    """A transcription of ``AlproForPretrain.forward`` (features already normalised, ``rank`` the global rank)."""
    b = video_feat.shape[0]
    sim_v2t = video_feat @ gathered_text.t() / temp
    sim_t2v = text_feat @ gathered_video.t() / temp
    sim_targets = torch.zeros_like(sim_v2t)
    b_start, b_end = b * rank, b * (rank + 1)
    sim_targets[:, b_start:b_end] = torch.eye(b)
    loss_v2t = -torch.sum(F.log_softmax(sim_v2t, dim=1) * sim_targets, dim=1).mean()
    loss_t2v = -torch.sum(F.log_softmax(sim_t2v, dim=1) * sim_targets, dim=1).mean()
    return (loss_v2t + loss_t2v) / 2


def _features(n: int, dim: int = 16, seed: int = 0) -> List[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [F.normalize(torch.randn(n, dim, generator=gen), dim=-1) for _ in range(2)]


def test_matches_the_official_formula():
    video, text = _features(6)
    temp = torch.tensor(0.07)
    loss = VTCLoss()(video, text, temp)
    torch.testing.assert_close(loss, official_vtc(video, text, video, text, temp, rank=0))
    # the features are normalised inside: unnormalised features give the loss of their directions
    torch.testing.assert_close(VTCLoss()(3 * video, 0.5 * text, temp), loss)
    # a float temperature, and the loss weight
    torch.testing.assert_close(VTCLoss(loss_weight=0.5)(video, text, 0.07), loss / 2)


def test_symmetric_mean_of_both_directions_without_smoothing():
    video, text = _features(5, seed=1)
    temp = torch.tensor(0.1)
    sims = vtc_similarities(video, text, temp)
    assert sims.offset == 0 and sims.sim_v2t.shape == sims.sim_t2v.shape == (5, 5)
    torch.testing.assert_close(sims.sim_v2t, video @ text.t() / temp)
    torch.testing.assert_close(sims.sim_t2v, sims.sim_v2t.t())
    assert torch.equal(sims.local_v2t, sims.sim_v2t) and torch.equal(sims.local_t2v, sims.sim_t2v)
    targets = torch.arange(5)
    expected = (F.cross_entropy(video @ text.t() / temp, targets) +
                F.cross_entropy(text @ video.t() / temp, targets)) / 2
    torch.testing.assert_close(vtc_loss_from_similarities(sims), expected)
    loss, returned = VTCLoss()(video, text, temp, return_similarities=True)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(returned.sim_v2t, sims.sim_v2t)


def test_perfect_alignment_at_a_low_temperature_gives_a_small_loss():
    video = torch.eye(4, 8)
    assert VTCLoss()(video, video.clone(), torch.tensor(0.01)) < 1e-6
    assert VTCLoss()(video, video.roll(1, dims=0), torch.tensor(0.01)) > 50


def test_temperature_clamp():
    for init, expected in ((0.7, 0.5), (1e-4, 0.001), (0.07, 0.07), (0.5, 0.5)):
        temp = nn.Parameter(torch.tensor(init))
        assert clamp_temperature_(temp) is temp  # in place, on a leaf that requires grad
        assert temp.item() == pytest.approx(expected)
        assert temp.requires_grad and temp.grad is None and temp.grad_fn is None
    temp = nn.Parameter(torch.tensor(0.9))
    VTCLoss(temp_max=0.2).clamp_temperature(temp)
    assert temp.item() == pytest.approx(0.2)
    with pytest.raises(TypeError, match='tensor'):
        clamp_temperature_(0.07)
    with pytest.raises(ValueError, match='temp_min'):
        VTCLoss(temp_min=0.6, temp_max=0.5)


def test_gradients_reach_both_features_and_the_temperature():
    torch.manual_seed(0)
    video = torch.randn(4, 16, requires_grad=True)
    text = torch.randn(4, 16, requires_grad=True)
    temp = nn.Parameter(torch.tensor(0.07))
    VTCLoss()(F.normalize(video, dim=-1), F.normalize(text, dim=-1), temp).backward()
    for grad in (video.grad, text.grad, temp.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # the temperature's gradient is that of the official formula
    temp_ref = nn.Parameter(torch.tensor(0.07))
    v, t = F.normalize(video.detach(), dim=-1), F.normalize(text.detach(), dim=-1)
    official_vtc(v, t, v, t, temp_ref, rank=0).backward()
    torch.testing.assert_close(temp.grad, temp_ref.grad)


def test_errors():
    video, text = _features(4)
    with pytest.raises(ValueError, match='same shape'):
        VTCLoss()(video, text[:3], 0.07)
    with pytest.raises(ValueError, match='same shape'):
        VTCLoss()(video[0], text[0], 0.07)
    with pytest.raises(ValueError, match='scalar temperature'):
        VTCLoss()(video, text, torch.tensor([0.07, 0.07]))
    with pytest.raises(ValueError, match='non-empty'):
        VTCLoss()(video[:0], text[:0], 0.07)


def test_registered_and_gather_is_identity_without_distributed():
    assert isinstance(MODELS.build(dict(type='VTCLoss', loss_weight=2.)), VTCLoss)
    x = torch.randn(3, 4)
    assert all_gather_with_grad(x) is x


# ----------------------------------------------------------------------------------------------------------------------
# two gloo ranks against the concatenated batch

DIM = 8


def _dist_worker(rank: int, port: int, inputs: Dict[str, torch.Tensor], out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        results = {}
        # equal local batches; the features come from a shared projection, as in a model under DDP
        torch.manual_seed(0)
        video_proj, text_proj = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)
        temp = nn.Parameter(torch.tensor(0.07))
        b = inputs['video_x'].shape[0] // 2
        video = F.normalize(video_proj(inputs['video_x'][rank * b:(rank + 1) * b]), dim=-1)
        text = F.normalize(text_proj(inputs['text_x'][rank * b:(rank + 1) * b]), dim=-1)
        video.retain_grad()
        text.retain_grad()
        loss, sims = VTCLoss()(video, text, temp, return_similarities=True)
        loss.backward()
        grads = [p.grad for p in (*video_proj.parameters(), *text_proj.parameters(), temp)]
        for grad in grads:  # DistributedDataParallel's averaging
            dist.all_reduce(grad)
            grad /= 2
        results['equal'] = dict(
            loss=loss.detach(),
            offset=sims.offset,
            sim_v2t=sims.sim_v2t.detach(),
            sim_t2v=sims.sim_t2v.detach(),
            video_grad=video.grad,
            text_grad=text.grad,
            param_grads=grads)
        # unequal local batches (3 and 2 rows)
        sizes = (3, 2)
        start = sum(sizes[:rank])
        video = inputs['video_feat'][start:start + sizes[rank]].clone().requires_grad_()
        text = inputs['text_feat'][start:start + sizes[rank]].clone().requires_grad_()
        loss, sims = VTCLoss()(video, text, torch.tensor(0.1), return_similarities=True)
        loss.backward()
        results['unequal'] = dict(loss=loss.detach(), offset=sims.offset, video_grad=video.grad, text_grad=text.grad)
        torch.save(results, os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_equal_the_concatenated_batch(tmp_path):
    gen = torch.Generator().manual_seed(3)
    inputs = dict(
        video_x=torch.randn(8, DIM, generator=gen),
        text_x=torch.randn(8, DIM, generator=gen),
        video_feat=F.normalize(torch.randn(5, DIM, generator=gen), dim=-1),
        text_feat=F.normalize(torch.randn(5, DIM, generator=gen), dim=-1))
    mp.spawn(_dist_worker, args=(free_port(), inputs, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=False) for r in range(2)]

    # the concatenated batch on one process, with the same projection weights
    torch.manual_seed(0)
    video_proj, text_proj = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)
    temp = nn.Parameter(torch.tensor(0.07))
    video = F.normalize(video_proj(inputs['video_x']), dim=-1)
    text = F.normalize(text_proj(inputs['text_x']), dim=-1)
    video.retain_grad()
    text.retain_grad()
    loss = VTCLoss()(video, text, temp)
    loss.backward()
    full_sims = vtc_similarities(video.detach(), text.detach(), temp.detach())

    equal = [r['equal'] for r in ranks]
    # the mean of the rank losses is the loss of the whole batch; the targets are offset by the global rank
    torch.testing.assert_close((equal[0]['loss'] + equal[1]['loss']) / 2, loss.detach())
    assert [r['offset'] for r in equal] == [0, 4]
    for rank, r in enumerate(equal):
        rows = slice(4 * rank, 4 * rank + 4)
        torch.testing.assert_close(r['sim_v2t'], full_sims.sim_v2t[rows])
        torch.testing.assert_close(r['sim_t2v'], full_sims.sim_t2v[rows])
        # a rank's feature gradient is that of the sum of the rank losses: twice that of the batch loss
        torch.testing.assert_close(r['video_grad'], 2 * video.grad[rows])
        torch.testing.assert_close(r['text_grad'], 2 * text.grad[rows])
        # so after DDP's averaging the parameters (and the temperature) get the gradient of the batch loss
        full_grads = [p.grad for p in (*video_proj.parameters(), *text_proj.parameters(), temp)]
        for got, expected in zip(r['param_grads'], full_grads):
            torch.testing.assert_close(got, expected)

    # unequal local batches: the offset is the size of the preceding batches, each rank's loss is the mean over its
    # rows, and the feature gradients are those of the sum of the rank losses
    unequal = [r['unequal'] for r in ranks]
    assert [r['offset'] for r in unequal] == [0, 3]
    video = inputs['video_feat'].clone().requires_grad_()
    text = inputs['text_feat'].clone().requires_grad_()
    targets = torch.arange(5)
    v, t = F.normalize(video, dim=-1), F.normalize(text, dim=-1)  # a no-op on the values, a projection of the grads
    sim_v2t, sim_t2v = v @ t.t() / 0.1, t @ v.t() / 0.1
    per_row = (F.cross_entropy(sim_v2t, targets, reduction='none') +
               F.cross_entropy(sim_t2v, targets, reduction='none')) / 2
    rank_losses = [per_row[:3].mean(), per_row[3:].mean()]
    sum(rank_losses).backward()
    for rank, (r, rows) in enumerate(zip(unequal, (slice(0, 3), slice(3, 5)))):
        torch.testing.assert_close(r['loss'], rank_losses[rank].detach())
        torch.testing.assert_close(r['video_grad'], video.grad[rows])
        torch.testing.assert_close(r['text_grad'], text.grad[rows])
