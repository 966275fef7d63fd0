"""AlproQA: shapes, the loss, which parameters learn, predicted answers, the answer vocabulary and a few training
steps through the data preprocessor."""
import json
from typing import List, Optional

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

from videoalign.models.algorithms import AlproQA
from videoalign.registry import MODELS
from videoalign.testing import TINY_ALPRO_VISUAL, tiny_alpro_text_encoder, write_vocab

QUESTIONS = [
    'what color is the circle?', 'what shape is moving?', 'what does the red square do?', 'what color is the arrow?'
]
ANSWERS = ['red', 'blue', 'circle', 'square', 'move left', 'move right', 'grow']
LABELS = [0, 2, 4, 1]


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> tuple:
    path = str(tmp_path_factory.mktemp('alpro_qa') / 'vocab.txt')
    return path, write_vocab(path, QUESTIONS)


def _cfg(vocab: tuple, **overrides) -> dict:
    cfg = dict(
        type='AlproQA',
        visual_encoder=TINY_ALPRO_VISUAL,
        text_encoder=tiny_alpro_text_encoder(vocab[1]),
        tokenizer=dict(type='ALPROTokenizer', vocab=vocab[0], max_length=12),
        answers=ANSWERS)
    cfg.update(overrides)
    return cfg


def _model(vocab: tuple, seed: int = 0, **overrides) -> AlproQA:
    torch.manual_seed(seed)
    model = MODELS.build(_cfg(vocab, **overrides))
    with torch.no_grad():  # non-zero everywhere (mmaction2 zero-initialises time_embed and temporal_fc)
        for param in model.visual_encoder.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model


def _clips(num: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(num, 1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(seed))


def _samples(questions: List[str] = QUESTIONS, labels: Optional[List[int]] = LABELS) -> List[ActionDataSample]:
    samples = []
    for i, question in enumerate(questions):
        sample = ActionDataSample()
        sample.set_field(question, 'question')
        if labels is not None:
            sample.set_gt_label(labels[i])
        samples.append(sample)
    return samples


def test_keys_are_the_official_qa_names_without_unused_heads(vocab):
    model = _model(vocab)
    keys = set(model.state_dict())
    assert {'classifier.0.weight', 'classifier.0.bias', 'classifier.2.weight', 'classifier.2.bias'} <= keys
    assert all(k.startswith(('visual_encoder.', 'text_encoder.bert.', 'classifier.')) for k in keys)
    assert not any(k.startswith(('temp', 'vision_proj', 'text_proj', 'itm_head', 'text_encoder.cls')) for k in keys)
    assert model.classifier[0].weight.shape == (64, 32) and model.classifier[2].weight.shape == (len(ANSWERS), 64)
    assert isinstance(model.classifier[1], torch.nn.ReLU)


def test_tensor_mode_gives_logits(vocab):
    model = _model(vocab).eval()
    with torch.no_grad():
        logits = model(_clips(4), _samples(), mode='tensor')
        again = model(_clips(4)[:, 0], _samples(), mode='tensor')  # (B, C, T, H, W) too
    assert logits.shape == (4, len(ANSWERS)) and torch.isfinite(logits).all()
    torch.testing.assert_close(logits, again)


def test_loss_and_gradients_reach_every_parameter(vocab):
    model = _model(vocab).eval()  # eval: no dropout, so the two forwards agree
    with torch.no_grad():
        losses = model(_clips(4), _samples(), mode='loss')
        logits = model(_clips(4), _samples(), mode='tensor')
    assert set(losses) == {'loss_cls', 'acc'}
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(LABELS))
    assert float(losses['loss_cls']) == pytest.approx(float(expected), rel=1e-5)
    assert float(losses['acc']) == pytest.approx(float((logits.argmax(1) == torch.tensor(LABELS)).float().mean()))

    model.train()
    losses = model(_clips(4), _samples(), mode='loss')
    assert losses['loss_cls'].requires_grad and not losses['acc'].requires_grad
    losses['loss_cls'].backward()
    params = dict(model.named_parameters())
    without = sorted(n for n, p in params.items() if p.grad is None or not p.grad.abs().sum() > 0)
    assert without == [], without  # every parameter is meant to train, and there are no unused ones
    assert all(p.requires_grad for p in params.values())


def test_activation_checkpointing_gives_the_same_gradients(vocab):
    grads = []
    for with_cp in (False, True):
        model = _model(vocab, visual_encoder=dict(TINY_ALPRO_VISUAL, with_cp=with_cp))
        model.train()
        model.text_encoder.eval()  # no dropout in BERT, so that both runs draw the same
        model(_clips(4), _samples(), mode='loss')['loss_cls'].backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-5, atol=1e-6, msg=name)


def test_predict_answers(vocab):
    model = _model(vocab).eval()
    with torch.no_grad():
        logits = model(_clips(4), _samples(), mode='tensor')
        results = model(_clips(4), _samples(labels=None), mode='predict')
    assert len(results) == 4
    for result, row in zip(results, logits):
        label = int(row.argmax())
        assert result.pred_label.tolist() == [label] and result.pred_answer == ANSWERS[label]
        torch.testing.assert_close(result.pred_score, row.softmax(dim=0))
        assert result.question in QUESTIONS


def test_answers_from_an_ans2label_file_and_num_classes(vocab, tmp_path):
    path = str(tmp_path / 'train_ans2label.json')
    with open(path, 'w') as f:
        json.dump({answer: i for i, answer in reversed(list(enumerate(ANSWERS)))}, f)
    assert _model(vocab, answers=path).answers == ANSWERS
    # a file that does not exist yet: read when the model first predicts
    later = str(tmp_path / 'later.json')
    model = _model(vocab, answers=later, num_classes=10).eval()
    assert model.classifier[2].out_features == 10
    with pytest.raises(FileNotFoundError, match='later.json'):
        model(_clips(1), _samples(QUESTIONS[:1], None), mode='predict')
    with open(later, 'w') as f:
        json.dump(ANSWERS, f)
    with torch.no_grad():
        model.classifier[2].bias[:] = -100.
        model.classifier[2].bias[9] = 100.  # a label beyond the 7 answers
        result = model(_clips(1), _samples(QUESTIONS[:1], None), mode='predict')[0]
    assert result.pred_label.tolist() == [9] and result.pred_answer == ''
    with pytest.raises(ValueError, match='num_classes'):
        _model(vocab, answers=str(tmp_path / 'missing.json'))
    with pytest.raises(ValueError, match='7 answers .* num_classes=3'):
        _model(vocab, num_classes=3)
    with pytest.raises(ValueError, match='more than once'):
        _model(vocab, answers=['red', 'red'])
    no_answers = _model(vocab, answers=None, num_classes=5).eval()
    with torch.no_grad():
        result = no_answers(_clips(1), _samples(QUESTIONS[:1], None), mode='predict')[0]
    assert 'pred_answer' not in result and result.pred_score.shape == (5, )


def test_clear_errors(vocab):
    model = _model(vocab)
    with pytest.raises(KeyError, match='PackActionInputs'):
        model(_clips(2), [ActionDataSample(), ActionDataSample()], mode='loss')
    with pytest.raises(ValueError, match='label -1'):
        model(_clips(2), _samples(QUESTIONS[:2], [0, -1]), mode='loss')
    with pytest.raises(KeyError, match='gt_label'):
        model(_clips(2), _samples(QUESTIONS[:2], None), mode='loss')
    with pytest.raises(ValueError, match='2 questions for 3 clips'):
        model(_clips(3), _samples(QUESTIONS[:2]), mode='tensor')
    with pytest.raises(ValueError, match='one clip per video'):
        model(torch.randn(2, 2, 3, 4, 32, 32), _samples(QUESTIONS[:2]), mode='tensor')
    with pytest.raises(RuntimeError, match="mode must be"):
        model(_clips(2), _samples(QUESTIONS[:2]), mode='feat')
    with pytest.raises(ValueError, match='width'):
        _model(vocab, visual_encoder=dict(TINY_ALPRO_VISUAL, embed_dims=16))


def test_a_few_training_steps_through_the_data_preprocessor(vocab):
    model = _model(vocab)
    generator = torch.Generator().manual_seed(3)
    data = dict(
        inputs=[torch.randint(0, 256, (1, 3, 4, 32, 32), generator=generator, dtype=torch.uint8) for _ in QUESTIONS],
        data_samples=_samples())
    optim_wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-6))
    losses = [float(model.train_step(data, optim_wrapper)['loss_cls'].detach()) for _ in range(20)]
    assert losses[-1] < losses[0] * 0.5, losses
    model.eval()
    results = model.test_step(dict(data, data_samples=_samples(labels=None)))
    assert [r.pred_answer for r in results] == [ANSWERS[label] for label in LABELS]
