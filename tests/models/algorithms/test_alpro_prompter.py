"""ALPROPrompter: the frozen teacher of PEM (official keys, template-mean prompt features, soft entity labels),
against transcriptions of the official ``Prompter`` on a converted random official checkpoint."""
import copy
from typing import Dict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from videoalign.models.algorithms.alpro import (IMAGE_TEMPLATES, VIDEO_TEMPLATES, ALPROPrompter, read_entities,
                                                zero_outside_box)
from videoalign.models.algorithms.alpro.alpro_base import ALPRO_MEAN, ALPRO_STD
from videoalign.models.converters.alpro import convert_alpro
from videoalign.models.losses import PEMLoss
from videoalign.models.text import ALPROTokenizer
from videoalign.registry import MODELS
from videoalign.testing.alpro import TINY_ALPRO_VISUAL, tiny_alpro_text_encoder, write_vocab
from videoalign.testing.alpro_reference import (official_video_tokens, random_official_alpro_state, strip_prefix,
                                                xbert_text)

# ten entities, as many as random_official_alpro_state's prompt features
ENTITIES = ['dog', 'cat', 'man', 'woman', 'car', 'guitar', 'beach', 'tree', 'ball', 'horse']
# the tiny sizes (videoalign.testing.alpro): video heads 2, 8 px patches; BERT heads 2, fusion from layer 2
HEADS, PATCH, FUSION = 2, 8, 2


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> Dict[str, object]:
    path = str(tmp_path_factory.mktemp('alpro_prompter') / 'vocab.txt')
    prompts = [t.format(e) for t in VIDEO_TEMPLATES + IMAGE_TEMPLATES for e in ENTITIES]
    return dict(path=path, size=write_vocab(path, prompts))


@pytest.fixture(scope='module')
def official(vocab) -> Dict[str, torch.Tensor]:
    """A random official pretraining checkpoint (its prompter under ``prompter.``)."""
    return random_official_alpro_state('pretrain', vocab_size=vocab['size'])


def _cfg(vocab: dict) -> dict:
    return dict(
        type='ALPROPrompter',
        visual_encoder=TINY_ALPRO_VISUAL,
        text_encoder=tiny_alpro_text_encoder(vocab['size']),
        embed_dim=16,
        num_entities=len(ENTITIES))


def _loaded(vocab: dict, official: dict) -> ALPROPrompter:
    prompter = MODELS.build(_cfg(vocab))
    result = prompter.load_state_dict(strip_prefix(convert_alpro(official, task='pretrain'), 'prompter.'), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    return prompter


def _tokenizer(vocab: dict) -> ALPROTokenizer:
    return ALPROTokenizer(vocab['path'], max_length=15)


def official_prompt_feat(sd: Dict[str, torch.Tensor], tokenizer: ALPROTokenizer, templates) -> torch.Tensor:
    """``setup_text_prompts`` + ``Prompter.build_text_prompts`` on the official prompter state ``sd``."""
    prompts = []
    for template in templates:
        prompts.extend([template.format(e) for e in ENTITIES])
    enc = tokenizer(prompts, max_length=15)
    embeds = xbert_text(strip_prefix(sd, 'text_encoder.'), enc['input_ids'], enc['attention_mask'], HEADS, FUSION)
    feat = F.normalize(F.linear(embeds[:, 0, :], sd['text_proj.weight'], sd['text_proj.bias']), dim=-1)
    num_templates = int(feat.shape[0] / len(ENTITIES))
    feat = torch.stack(feat.chunk(num_templates), dim=1)
    return torch.mean(feat, dim=1)


def official_sim_masked(sd: Dict[str, torch.Tensor], crop_visual_inputs: torch.Tensor,
                        prompt_feat: torch.Tensor) -> torch.Tensor:
    """``Prompter.get_pseudo_labels`` up to ``sim_masked`` (crops ``(B, C, T, H, W)``)."""
    video_embeds = official_video_tokens(strip_prefix(sd, 'visual_encoder.model.'), crop_visual_inputs, HEADS, PATCH)
    masked_image_feat = F.normalize(
        F.linear(video_embeds[:, 0, :], sd['vision_proj.weight'], sd['vision_proj.bias']), dim=-1)
    return masked_image_feat @ prompt_feat.t() / sd['temp']


def _crops(batch: int = 3, seed: int = 0) -> torch.Tensor:
    video = torch.randn(batch, 3, 4, 32, 32, generator=torch.Generator().manual_seed(seed))
    boxes = [(8, 0, 16, 24), (0, 8, 24, 16), (16, 16, 16, 16), (0, 0, 32, 8)][:batch]
    return zero_outside_box(video, boxes, ALPRO_MEAN, ALPRO_STD)


def test_templates_and_entities(tmp_path):
    assert len(VIDEO_TEMPLATES) == len(IMAGE_TEMPLATES) == 12
    assert VIDEO_TEMPLATES[0] == 'A footage of a {}.' and VIDEO_TEMPLATES[-1] == 'A video footage of one {}.'
    assert IMAGE_TEMPLATES[6] == 'A good photo of the {}.' and IMAGE_TEMPLATES[7] == 'A good photo of a {}.'
    path = tmp_path / 'unigrams.txt'
    path.write_text('dog 1520\ncat\t990\nman 800 extra\nwoman 10\n')
    assert read_entities(str(path), 3) == ['dog', 'cat', 'man']
    with pytest.raises(ValueError, match=r"unigrams\.txt' has 4 lines, fewer than num_entities=1000"):
        read_entities(str(path))
    path.write_text('dog 1\n\ncat 2\n')
    with pytest.raises(ValueError, match='line 2 of the entity file'):
        read_entities(str(path), 3)


def test_loads_the_converted_official_prompter_strictly(vocab, official):
    prompter = MODELS.build(_cfg(vocab))
    assert not prompter.prompts_ready
    expected = set(strip_prefix(convert_alpro(official, task='pretrain'), 'prompter.'))
    assert set(prompter.state_dict()) == expected
    assert {'itm_head.weight', 'temp', 'video_prompt_feat', 'image_prompt_feat'} <= expected
    assert not any(k.startswith('text_encoder.cls.') for k in expected)
    prompter = _loaded(vocab, official)
    assert prompter.prompts_ready  # loading the prompt features counts as building them
    assert torch.equal(prompter.video_prompt_feat, official['prompter.video_prompt_feat'])

    # under a parent model, as prompter.* of the pretraining state dict
    parent = nn.Module()
    parent.prompter = MODELS.build(_cfg(vocab))
    state = {k: v for k, v in convert_alpro(official, task='pretrain').items() if k.startswith('prompter.')}
    parent.load_state_dict(state, strict=True)
    assert parent.prompter.prompts_ready


def test_build_prompts_is_the_official_template_mean_once(vocab, official):
    prompter = _loaded(vocab, official)
    tokenizer = _tokenizer(vocab)
    with pytest.raises(RuntimeError, match='already built or loaded'):
        prompter.build_prompts(tokenizer, ENTITIES)
    prompter.build_prompts(tokenizer, ENTITIES, batch_size=50, force=True)  # chunks of 50 of the 120 prompts
    sd = strip_prefix(official, 'prompter.')
    with torch.no_grad():
        for name, templates in (('video_prompt_feat', VIDEO_TEMPLATES), ('image_prompt_feat', IMAGE_TEMPLATES)):
            ref = official_prompt_feat(sd, tokenizer, templates)
            torch.testing.assert_close(getattr(prompter, name), ref, rtol=1e-4, atol=1e-5)
            norms = getattr(prompter, name).norm(dim=1)
            assert (norms < 0.999).all() and (norms > 0.1).all()  # a mean of unit vectors, not normalised again
    assert not torch.allclose(prompter.video_prompt_feat, prompter.image_prompt_feat)

    fresh = MODELS.build(_cfg(vocab))
    fresh.load_state_dict(strip_prefix(convert_alpro(official, task='pretrain'), 'prompter.'))
    fresh.prompts_ready = False
    fresh.build_prompts(dict(type='ALPROTokenizer', vocab=vocab['path']), ENTITIES)  # a tokenizer config
    torch.testing.assert_close(fresh.video_prompt_feat, prompter.video_prompt_feat)
    with pytest.raises(RuntimeError, match='already built'):
        fresh.build_prompts(tokenizer, ENTITIES)


def test_pseudo_labels_are_the_official_ones(vocab, official):
    prompter = _loaded(vocab, official)
    sd = strip_prefix(official, 'prompter.')
    crops = _crops()
    seen = {'intended': set(), 'official': set()}
    for source, feat in (('video', sd['video_prompt_feat']), ('image', sd['image_prompt_feat'])):
        sim = official_sim_masked(sd, crops, feat)
        for rule, threshold in (('intended', 0.2), ('intended', 0.3), ('official', 0.2)):
            soft, ignore = prompter.pseudo_labels(crops, source, ignore_threshold=threshold, ignore_rule=rule)
            assert soft.shape == (3, len(ENTITIES)) and ignore.shape == (3, )
            torch.testing.assert_close(soft, sim.softmax(dim=1), rtol=1e-4, atol=1e-5)
            if rule == 'official':
                assert torch.equal(ignore, torch.max(sim, dim=1)[1] < threshold)
            else:
                assert torch.equal(ignore, sim.softmax(dim=1).max(dim=1).values < threshold)
            seen[rule].update(ignore.tolist())
        torch.testing.assert_close(prompter.similarities(crops, source) / prompter.temp, sim, rtol=1e-4, atol=1e-4)
    assert seen == {'intended': {False, True}, 'official': {False, True}}  # both outcomes of both rules are checked
    # one source per clip: each row from its own prompt set
    mixed, _ = prompter(crops, ['image', 'video', 'image'])
    video, _ = prompter(crops, 'video')
    image, _ = prompter(crops, 'image')
    torch.testing.assert_close(mixed, torch.stack([image[0], video[1], image[2]]))
    # the PEM loss's rule and threshold
    loss = PEMLoss(ignore_rule='official')
    for got, expected in zip(
            loss.pseudo_labels(prompter.similarities(crops, 'video'), prompter.temp),
            prompter.pseudo_labels(crops, 'video', ignore_rule='official')):
        assert torch.equal(got, expected)


def test_frozen_in_eval_and_without_gradient(vocab, official):
    prompter = _loaded(vocab, official)
    assert all(not p.requires_grad for p in prompter.parameters())
    parent = nn.Module()
    parent.prompter = prompter
    parent.head = nn.Linear(len(ENTITIES), len(ENTITIES))
    parent.train()
    assert parent.head.training and not any(m.training for m in prompter.modules())
    assert prompter.train() is prompter and not prompter.training

    crops = _crops().requires_grad_()
    soft, ignore = prompter.pseudo_labels(crops, 'video')
    assert not soft.requires_grad and not ignore.requires_grad
    logits = parent.head(torch.randn(3, len(ENTITIES)))
    PEMLoss()(logits, soft, ignore).backward()
    assert all(p.grad is None for p in prompter.parameters())
    assert crops.grad is None and parent.head.weight.grad is not None
    # deterministic: the prompter has no dropout or drop path at work
    torch.testing.assert_close(prompter.pseudo_labels(crops, 'video')[0], soft)
    assert copy.deepcopy(prompter).prompts_ready


def test_errors(vocab, official):
    prompter = MODELS.build(_cfg(vocab))
    crops = _crops()
    with pytest.raises(RuntimeError, match='neither built nor loaded'):
        prompter.pseudo_labels(crops, 'video')
    with pytest.raises(ValueError, match='expected 10 entities'):
        prompter.build_prompts(_tokenizer(vocab), ENTITIES[:5])
    with pytest.raises(ValueError, match=r'needs a \{\} for the entity'):
        prompter.build_prompts(_tokenizer(vocab), ENTITIES, video_templates=['A video.'])
    prompter = _loaded(vocab, official)
    with pytest.raises(ValueError, match=r"source must be one of \('video', 'image'\)"):
        prompter.pseudo_labels(crops, 'img')
    with pytest.raises(ValueError, match=r'one source per clip \(3\)'):
        prompter.pseudo_labels(crops, ['video', 'image'])
    cfg = _cfg(vocab)
    cfg['text_encoder'] = dict(cfg['text_encoder'], mlm_head=True)
    with pytest.raises(ValueError, match='no MLM head'):
        MODELS.build(cfg)


def test_prompter_pretrained_file_initialises_the_prompter(vocab, tmp_path):
    """prompter_pretrained.pt (a VTC-only model with its MLM head and prompt features) converted with task='retrieval'
    loads into the prompter with only the prompt features missing, as the official
    load_pretrained_weights_without_prompts leaves them, to be built from the entities."""
    prompter_file = random_official_alpro_state('prompter', vocab_size=vocab['size'], num_entities=len(ENTITIES))
    state = convert_alpro(prompter_file)  # task='retrieval': MLM head and prompt features dropped
    prompter = MODELS.build(_cfg(vocab))
    result = prompter.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == ['image_prompt_feat', 'video_prompt_feat'] and not result.unexpected_keys
    assert not prompter.prompts_ready
    torch.testing.assert_close(prompter.temp, prompter_file['temp'])
