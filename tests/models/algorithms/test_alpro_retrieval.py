"""AlproRetrieval: VTC + VTM training, which parameters learn, and the two rankings against pair-by-pair references,
on one process and on two gloo ranks."""
import os.path as osp
from typing import List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.structures import ActionDataSample

from videoalign.models.algorithms import AlproRetrieval
from videoalign.models.algorithms.alpro.retrieval_scores import UNRANKED_SCORE, gather_by_index, lavis_scores
from videoalign.registry import MODELS
from videoalign.testing import free_port, tiny_alpro_retrieval, write_vocab

CAPTIONS = [['a red circle moves to the left', 'a red circle slides left'], ['a blue square moves up'],
            ['a green triangle grows', 'a green triangle gets bigger', 'the triangle grows'],
            ['a red square moves down']]
TEXTS = [text for captions in CAPTIONS for text in captions]


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> tuple:
    path = str(tmp_path_factory.mktemp('alpro') / 'vocab.txt')
    return path, write_vocab(path, TEXTS)


def _model(vocab: tuple, seed: int = 0, **overrides) -> AlproRetrieval:
    torch.manual_seed(seed)
    model = MODELS.build(tiny_alpro_retrieval(*vocab, **overrides))
    with torch.no_grad():  # non-zero everywhere (mmaction2 zero-initialises time_embed and temporal_fc)
        for param in model.visual_encoder.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model


def _clips(num: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(num, 1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(seed))


def _train_samples(texts: List[str]) -> List[ActionDataSample]:
    return [ActionDataSample(metainfo=dict(text=text)) for text in texts]


def _eval_samples(first_video: int = 0, captions=CAPTIONS) -> List[ActionDataSample]:
    samples, text_id = [], sum(len(c) for c in CAPTIONS[:first_video])
    for video, texts in enumerate(captions, start=first_video):
        sample = ActionDataSample(metainfo=dict(text=list(texts)))
        sample.set_field([video] * len(texts), 'gt_video_id')
        sample.set_field(list(range(text_id, text_id + len(texts))), 'gt_text_id')
        text_id += len(texts)
        samples.append(sample)
    return samples


def test_build_keys_and_official_names(vocab):
    model = _model(vocab)
    keys = set(model.state_dict())
    assert {
        'temp', 'vision_proj.weight', 'text_proj.bias', 'itm_head.weight',
        'text_encoder.bert.encoder.layer.3.output.dense.weight', 'visual_encoder.pos_embed'
    } <= keys
    assert not any(key.startswith('text_encoder.cls.') for key in keys)  # no MLM head in retrieval
    assert model.temp.item() == pytest.approx(0.07) and model.temp.dim() == 0
    assert model.vision_proj.out_features == model.text_proj.out_features == 16
    assert (model.inference_mode, model.inference_k, model.inference_batch_size) == ('official', 256, 64)


def test_loss_clamps_the_temperature_and_trains_every_parameter(vocab):
    model = _model(vocab).train()
    with torch.no_grad():
        model.temp.fill_(1.0)
    losses = model(_clips(4), _train_samples([c[0] for c in CAPTIONS]), mode='loss')
    assert set(losses) == {'loss_vtc', 'loss_vtm', 'vtm_acc'}
    assert model.temp.item() == 0.5  # clamped to [0.001, 0.5] before use
    assert all(torch.isfinite(v) for v in losses.values()) and 0 <= losses['vtm_acc'] <= 1
    (losses['loss_vtc'] + losses['loss_vtm']).backward()
    assert [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()] == []


def test_vtc_only_training_as_the_prompter(vocab):
    """vtm_loss=None: ALPRO's prompter recipe, VTC alone; the fusion layers and itm_head get no gradient."""
    model = _model(vocab, vtm_loss=None).train()
    losses = model(_clips(4), _train_samples([c[0] for c in CAPTIONS]), mode='loss')
    assert set(losses) == {'loss_vtc'}
    losses['loss_vtc'].backward()
    no_grad = {name for name, p in model.named_parameters() if p.grad is None}
    fusion = {
        name
        for name, _ in model.named_parameters() if name.startswith('text_encoder.bert.encoder.layer.2.')
        or name.startswith('text_encoder.bert.encoder.layer.3.') or name.startswith('itm_head.')
    }
    assert no_grad == fusion


def test_loss_reproduces_the_official_vtm_composition(vocab):
    """Positives then each text with its negative video, then each video with its negative text (compute_vtm)."""
    model = _model(vocab).eval()
    clips, texts = _clips(4), [c[0] for c in CAPTIONS]
    torch.manual_seed(3)
    losses = model(clips, _train_samples(texts), mode='loss')
    with torch.no_grad():
        video, text = model.encode_video(clips), model.encode_text(texts)
        sim_v2t = video['video_feat'] @ text['text_feat'].t() / model.temp
        sim_t2v = text['text_feat'] @ video['video_feat'].t() / model.temp
        weights_v2t, weights_t2v = sim_v2t.clone().fill_diagonal_(-float('inf')).softmax(1), \
            sim_t2v.clone().fill_diagonal_(-float('inf')).softmax(1)
        torch.manual_seed(3)
        neg_video = torch.multinomial(weights_t2v, 1).squeeze(1)
        neg_text = torch.multinomial(weights_v2t, 1).squeeze(1)
        pos = model.itm_logits(text['text_states'], text['text_mask'], video['video_tokens'])
        neg = model.itm_logits(
            torch.cat([text['text_states'], text['text_states'][neg_text]]),
            torch.cat([text['text_mask'], text['text_mask'][neg_text]]),
            torch.cat([video['video_tokens'][neg_video], video['video_tokens']]))
        labels = torch.tensor([1] * 4 + [0] * 8)
        vtm = torch.nn.functional.cross_entropy(torch.cat([pos, neg]), labels)
        targets = torch.arange(4)
        vtc = (torch.nn.functional.cross_entropy(sim_v2t, targets) +
               torch.nn.functional.cross_entropy(sim_t2v, targets)) / 2
    torch.testing.assert_close(losses['loss_vtm'], vtm, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(losses['loss_vtc'], vtc, atol=1e-5, rtol=1e-5)


def _pairwise_logits(model: AlproRetrieval, feats: dict) -> torch.Tensor:
    """``(num_texts, num_videos, 2)``: each pair through the fusion encoder on its own."""
    rows = []
    for t in range(feats['text_feat'].shape[0]):
        rows.append(
            torch.cat([
                model.itm_logits(feats['text_states'][t:t + 1], feats['text_mask'][t:t + 1],
                                 feats['video_tokens'][v:v + 1]) for v in range(feats['video_feat'].shape[0])
            ]))
    return torch.stack(rows)


@pytest.mark.parametrize('mode', ['official', 'lavis', 'vtc'])
def test_rankings_equal_pair_by_pair_references(vocab, mode):
    model = _model(vocab, inference=dict(mode=mode, k=2, batch_size=3)).eval()
    samples = _eval_samples()
    with torch.no_grad():
        feats = model(_clips(4), samples, mode='tensor')
        v2t, t2v = model.predict_all(feats, samples, num_images=4, num_texts=len(TEXTS))
        logits = _pairwise_logits(model, feats)
    if mode == 'official':
        expected_t2v = logits.softmax(-1)[..., 1]
        expected_v2t = expected_t2v.t()
    elif mode == 'vtc':
        expected_t2v = feats['text_feat'] @ feats['video_feat'].t()
        expected_v2t = expected_t2v.t()
    else:
        sim = feats['text_feat'] @ feats['video_feat'].t()
        expected_t2v = torch.full_like(sim, UNRANKED_SCORE)
        expected_v2t = torch.full_like(sim.t(), UNRANKED_SCORE)
        for t in range(sim.shape[0]):
            top = sim[t].topk(2).indices
            expected_t2v[t, top] = logits[t, top, 1] + sim[t, top]
        for v in range(sim.shape[1]):
            top = sim[:, v].topk(2).indices
            expected_v2t[v, top] = logits[top, v, 1] + sim[top, v]
    torch.testing.assert_close(torch.stack([s.pred_score for s in t2v]), expected_t2v, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.stack([s.pred_score for s in v2t]), expected_v2t, atol=1e-5, rtol=1e-5)
    assert [s.gt_label.tolist() for s in v2t] == [[0, 1], [2], [3, 4, 5], [6]]
    assert [int(s.gt_label) for s in t2v] == [0, 0, 1, 2, 2, 2, 3]
    assert [s.text for s in t2v] == TEXTS


def test_lavis_scores_each_pair_once():
    calls = []

    def pair_logits(text_idx, video_idx):
        calls.extend(zip(text_idx.tolist(), video_idx.tolist()))
        return torch.stack([torch.zeros(len(text_idx)), text_idx + 0.1 * video_idx.float()], 1)

    sim = torch.rand(6, 5, generator=torch.Generator().manual_seed(0))
    scores = lavis_scores(pair_logits, sim, k=2, batch_size=4)
    assert len(calls) == len(set(calls)) == scores.num_pairs <= 2 * (6 + 5)
    assert ((scores.t2v > UNRANKED_SCORE).sum(1) == 2).all() and ((scores.v2t > UNRANKED_SCORE).sum(1) == 2).all()
    # k larger than the gallery: every pair, and the ranking of VTM + similarity
    calls.clear()
    scores = lavis_scores(pair_logits, sim, k=100, batch_size=7)
    assert len(calls) == 30
    expected = torch.arange(6.)[:, None] + 0.1 * torch.arange(5.) + sim
    torch.testing.assert_close(scores.t2v, expected)
    torch.testing.assert_close(scores.v2t, expected.t())


def test_gather_by_index_places_rows_and_tolerates_padding_duplicates():
    values = torch.arange(12.).reshape(4, 3)
    out = gather_by_index(values, torch.tensor([2, 0, 3, 2]), 5)
    assert out.tolist() == [[3., 4., 5.], [0., 0., 0.], [9., 10., 11.], [6., 7., 8.], [0., 0., 0.]]
    with pytest.raises(ValueError, match=r'must be in \[0, 3\)'):
        gather_by_index(values, torch.tensor([0, 1, 2, 3]), 3)


def test_predict_mode_ranks_the_batch_and_errors(vocab):
    model = _model(vocab).eval()
    with torch.no_grad():
        v2t, t2v = model(_clips(4), _eval_samples(), mode='predict')
    assert len(v2t) == 4 and len(t2v) == len(TEXTS) and v2t[0].pred_score.shape == (len(TEXTS), )
    with pytest.raises(ValueError, match='one caption'):
        model(_clips(4), _eval_samples(), mode='loss')
    with pytest.raises(KeyError, match='gt_video_id and gt_text_id'):
        model(_clips(4), _train_samples(TEXTS[:4]), mode='tensor')
    with pytest.raises(ValueError, match='one clip per video'):
        model.encode_video(torch.randn(2, 2, 3, 4, 32, 32))
    with pytest.raises(ValueError, match="'official'"):
        _model(vocab, inference=dict(mode='fast'))
    with pytest.raises(ValueError, match='word pieces'):
        MODELS.build(tiny_alpro_retrieval(vocab[0], 50))


# ---------------------------------------------------------------- two gloo ranks


def _dist_worker(rank: int, port: int, vocab: tuple, mode: str, out_dir: str) -> None:
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        model = _model(vocab, inference=dict(mode=mode, k=2, batch_size=2)).eval()
        clips = _clips(4)
        # DefaultSampler's split: rank 0 gets videos 0 and 2, rank 1 videos 1 and 3 (and a padding copy of 1)
        mine = [0, 2] if rank == 0 else [1, 3, 1]
        samples = [_eval_samples()[i] for i in mine]
        with torch.no_grad():
            feats = model(clips[mine], samples, mode='tensor')
            v2t, t2v = model.predict_all(feats, samples, num_images=4, num_texts=len(TEXTS))
        torch.save(
            dict(v2t=[s.pred_score for s in v2t], t2v=[s.pred_score for s in t2v]),
            osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize('mode', ['official', 'lavis'])
def test_two_gloo_ranks_rank_as_one_process(vocab, tmp_path, mode):
    mp.spawn(_dist_worker, args=(free_port(), vocab, mode, str(tmp_path)), nprocs=2, join=True)
    model = _model(vocab, inference=dict(mode=mode, k=2, batch_size=2)).eval()
    samples = _eval_samples()
    with torch.no_grad():
        v2t, t2v = model.predict_all(model(_clips(4), samples, mode='tensor'), samples, 4, len(TEXTS))
    ranks = [torch.load(str(tmp_path / f'rank{r}.pth')) for r in range(2)]
    for rank, videos in ((0, [0, 2]), (1, [1, 3, 1])):
        for got, video in zip(ranks[rank]['v2t'], videos):
            torch.testing.assert_close(got, v2t[video].pred_score, atol=1e-5, rtol=1e-5)
        texts = [t for v in videos for t in samples[v].gt_text_id]
        for got, text in zip(ranks[rank]['t2v'], texts):
            torch.testing.assert_close(got, t2v[text].pred_score, atol=1e-5, rtol=1e-5)
