"""AlproPretrainer: the four losses, the frozen prompter (no gradient, no optimizer state, eval mode), entity prompts
built once at init, and all four losses falling on a tiny batch."""
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.optim import build_optim_wrapper

from videoalign.models.algorithms import AlproPretrainer
from videoalign.registry import MODELS
from videoalign.testing import TINY_ALPRO_VISUAL, tiny_alpro_text_encoder, write_vocab

CAPTIONS = [
    'a red circle moves to the left', 'a blue square moves up', 'a green triangle grows', 'a red square moves down'
]
ENTITIES = ['circle', 'square', 'triangle', 'red', 'blue', 'green']


@pytest.fixture(scope='module')
def files(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('alpro_pretrain')
    vocab = str(root / 'vocab.txt')
    from videoalign.models.algorithms.alpro import IMAGE_TEMPLATES, VIDEO_TEMPLATES
    size = write_vocab(vocab, CAPTIONS + [t.format(e) for t in VIDEO_TEMPLATES + IMAGE_TEMPLATES for e in ENTITIES])
    unigrams = root / 'unigrams.txt'
    unigrams.write_text(''.join(f'{e} {100 - i}\n' for i, e in enumerate(ENTITIES)) + 'extra 1\n')
    return dict(vocab=vocab, size=size, unigrams=str(unigrams))


def _model(files: dict, seed: int = 0, **overrides) -> AlproPretrainer:
    torch.manual_seed(seed)
    text = tiny_alpro_text_encoder(files['size'])
    cfg = dict(
        type='AlproPretrainer',
        visual_encoder=TINY_ALPRO_VISUAL,
        text_encoder=text,
        tokenizer=dict(type='ALPROTokenizer', vocab=files['vocab'], max_length=12),
        prompter=dict(type='ALPROPrompter', visual_encoder=TINY_ALPRO_VISUAL, text_encoder=text, embed_dim=16),
        entities=files['unigrams'],
        num_entities=len(ENTITIES),
        embed_dim=16,
        prompt_length=10)
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    with torch.no_grad():  # non-zero everywhere (mmaction2 zero-initialises time_embed and temporal_fc)
        for param in model.visual_encoder.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model


def _trained_prompter(model: AlproPretrainer) -> AlproPretrainer:
    """Distinct entity prompts and a sharp temperature, as a trained prompter has: a random-weight one gives the
    entities nearly the same features (only one word of the prompt differs), so every sample would be ignored."""
    prompter = model.prompter
    generator = torch.Generator().manual_seed(2)
    for name in ('video_prompt_feat', 'image_prompt_feat'):
        getattr(prompter,
                name).copy_(torch.nn.functional.normalize(torch.randn(len(ENTITIES), 16, generator=generator)))
    prompter.temp.data.fill_(0.01)
    return model


def _batch(num: int = 4, source: str = 'video'):
    clips = torch.randn(num, 1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(1))
    samples = []
    for i in range(num):
        sample = ActionDataSample(metainfo=dict(text=CAPTIONS[i % len(CAPTIONS)], source=source))
        sample.set_field((8, 0, 16, 24), 'pem_box', field_type='metainfo')  # top, left, height, width in pixels
        samples.append(sample)
    return clips, samples


def test_prompts_built_once_and_prompter_frozen(files):
    model = _model(files)
    prompter = model.prompter
    assert prompter.prompts_ready and prompter.video_prompt_feat.shape == (len(ENTITIES), 16)
    norms = prompter.video_prompt_feat.norm(dim=1)
    assert (norms < 1 + 1e-6).all() and (norms > 0).all()  # a mean of unit vectors, not re-normalised
    built = prompter.video_prompt_feat.clone()
    model.init_weights()  # not rebuilt
    assert torch.equal(prompter.video_prompt_feat, built)
    assert not any(p.requires_grad for p in prompter.parameters())
    model.train()
    assert not prompter.training and model.visual_encoder.training
    assert model.text_encoder.cls is not None  # the student keeps its MLM head


def test_losses_gradients_and_optimizer_state(files):
    model = _trained_prompter(_model(files)).train()
    clips, samples = _batch()
    losses = model(clips, samples, mode='loss')
    assert {'loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_pem', 'vtm_acc', 'mlm_acc', 'pem_acc',
            'pem_ignored'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    optim.backward(sum(v for k, v in losses.items() if k.startswith('loss')))
    student = {name for name, p in model.named_parameters() if not name.startswith('prompter.')}
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert student - with_grad == set()
    assert not any(name.startswith('prompter.') for name in with_grad)
    optim.step()
    prompter_params = {id(p) for p in model.prompter.parameters()}
    assert not any(id(p) in prompter_params for p in optim.optimizer.state)  # no optimizer state for the prompter


def test_all_four_losses_fall(files):
    model = _trained_prompter(_model(files)).train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=2e-3)))
    clips, samples = _batch(4)
    history = []
    for step in range(30):
        torch.manual_seed(step)
        losses = model(clips, samples, mode='loss')
        optim.update_params(sum(v for k, v in losses.items() if k.startswith('loss')))
        history.append({k: v.item() for k, v in losses.items() if k.startswith('loss')})
    for key in ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_pem'):
        first = sum(h[key] for h in history[:5]) / 5
        last = sum(h[key] for h in history[-5:]) / 5
        assert last < first, (key, first, last)


def test_image_batches_use_the_image_prompts_and_errors(files):
    model = _model(files).eval()
    clips, samples = _batch(source='image')
    with torch.no_grad():
        assert torch.isfinite(model(clips, samples, mode='loss')['loss_pem'])
    bare = [ActionDataSample(metainfo=dict(text=c)) for c in CAPTIONS]
    with pytest.raises(KeyError, match='PEMRandomBox'):
        model(clips, bare, mode='loss')
    with pytest.raises(ValueError, match='vtm_loss'):
        _model(files, vtm_loss=None)


def test_official_pretraining_checkpoint_loads_strictly(files):
    """alpro_pretrained_ckpt.pt's layout (random weights, official keys, with its prompter copy) -> convert_alpro
    (task='pretrain') -> the pretrainer, strictly; the loaded prompts are kept (not rebuilt)."""
    from videoalign.models.converters import convert_alpro
    from videoalign.testing.alpro_reference import random_official_alpro_state
    official = random_official_alpro_state('pretrain', vocab_size=files['size'], num_entities=len(ENTITIES))
    state = convert_alpro(official, task='pretrain')
    torch.manual_seed(0)
    text = tiny_alpro_text_encoder(files['size'])
    model = MODELS.build(
        dict(
            type='AlproPretrainer',
            visual_encoder=TINY_ALPRO_VISUAL,
            text_encoder=text,
            tokenizer=dict(type='ALPROTokenizer', vocab=files['vocab'], max_length=12),
            prompter=dict(type='ALPROPrompter', visual_encoder=TINY_ALPRO_VISUAL, text_encoder=text, embed_dim=16),
            entities=files['unigrams'],
            num_entities=len(ENTITIES),
            embed_dim=16))
    model.load_state_dict(state, strict=True)
    assert model.prompter.prompts_ready
    model.init_weights()
    torch.testing.assert_close(model.prompter.video_prompt_feat, official['prompter.video_prompt_feat'])
    torch.testing.assert_close(model.mpm_head[2].bias, official['mpm_head.2.bias'])
