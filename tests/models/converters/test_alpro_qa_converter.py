"""The ``alpro_qa`` converter: official and LAVIS ALPRO QA files to ``AlproQA``, loaded strictly and checked against
a transcription of the official ``AlproForSequenceClassification.forward``
(:mod:`videoalign.testing.alpro_qa_reference`) on random tiny official-layout state dicts; and the pretraining file as
a QA fine-tune's ``load_from``."""
import os.path as osp
from typing import Dict

import pytest
import torch

from videoalign.hub import load_metafile
from videoalign.models.converters import convert_alpro, convert_alpro_qa, convert_checkpoint, get_converter
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT, TINY_ALPRO_VISUAL, tiny_alpro_text_encoder, write_vocab
from videoalign.testing.alpro_qa_reference import lavis_qa_file, official_qa_logits, random_official_qa_state
from videoalign.testing.alpro_reference import random_official_alpro_state

QUESTIONS = ['what color is the circle ?', 'who is talking ?', 'what does the red square do ?']
NUM_ANSWERS = 7
# the tiny model of videoalign.testing.alpro: video heads 2, 8 px patches; BERT heads 2, fusion from layer 2
SIZES = dict(video_heads=2, patch_size=8, text_heads=2, fusion_layer=2)
UNUSED = {
    'temp', 'vision_proj.weight', 'vision_proj.bias', 'text_proj.weight', 'text_proj.bias', 'itm_head.weight',
    'itm_head.bias'
}


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> Dict[str, object]:
    path = str(tmp_path_factory.mktemp('alpro_qa_vocab') / 'vocab.txt')
    return dict(path=path, size=write_vocab(path, QUESTIONS))


def _model(vocab: dict, num_frames: int = 4, num_classes: int = NUM_ANSWERS) -> torch.nn.Module:
    torch.manual_seed(5)
    return MODELS.build(
        dict(
            type='AlproQA',
            visual_encoder=dict(TINY_ALPRO_VISUAL, num_frames=num_frames),
            text_encoder=tiny_alpro_text_encoder(vocab['size']),
            tokenizer=dict(type='ALPROTokenizer', vocab=vocab['path'], max_length=12),
            num_classes=num_classes)).eval()


def _official(vocab: dict) -> Dict[str, torch.Tensor]:
    return random_official_qa_state(NUM_ANSWERS, vocab_size=vocab['size'])


def _load_strict(model: torch.nn.Module, state: dict) -> None:
    result = model.load_state_dict(state, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []


@pytest.mark.parametrize('layout', ['official', 'lavis'])
def test_converted_model_computes_the_official_qa_logits(vocab, layout):
    official = _official(vocab)
    assert UNUSED <= set(official) and 'text_encoder.embeddings.position_ids' in official
    file = official if layout == 'official' else lavis_qa_file(official)
    state = convert_alpro_qa(file)
    assert not UNUSED & set(state) and not any(k.endswith('position_ids') for k in state)
    assert not any(k.startswith('visual_encoder.head') for k in state)
    model = _model(vocab)
    _load_strict(model, state)

    torch.manual_seed(0)
    video = torch.randn(3, 3, 4, 32, 32)  # (B, C, T, H, W), normalised
    tokens = model.tokenizer(QUESTIONS)
    with torch.no_grad():
        expected = official_qa_logits(official, video.transpose(1, 2), tokens['input_ids'], tokens['attention_mask'],
                                      **SIZES)
        logits = model.logits(video, QUESTIONS)
    assert expected.shape == (3, NUM_ANSWERS)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-5)


def test_the_official_forward_differs_when_weights_are_misplaced(vocab):
    """The reference is sensitive to the mapping: swapping the classifier layers' biases changes its logits."""
    official = _official(vocab)
    tokens = _model(vocab).tokenizer(QUESTIONS)
    video = torch.randn(3, 4, 3, 32, 32)
    swapped = dict(official)
    swapped['classifier.2.bias'] = official['classifier.2.bias'].flip(0)
    first = official_qa_logits(official, video, tokens['input_ids'], tokens['attention_mask'], **SIZES)
    second = official_qa_logits(swapped, video, tokens['input_ids'], tokens['attention_mask'], **SIZES)
    assert not torch.allclose(first, second)


def test_a_file_by_name_and_its_meta(vocab, tmp_path):
    official = _official(vocab)
    for layout, file in (('official', official), ('lavis', lavis_qa_file(official))):
        src = str(tmp_path / f'alpro_qa_{layout}.pth')
        torch.save(file, src)
        state, meta = get_converter('alpro_qa')(src)
        assert meta == dict(alpro_kind='qa', alpro_num_answers=NUM_ANSWERS, alpro_unused_heads=layout == 'official')
        _load_strict(_model(vocab), state)
    dst = str(tmp_path / 'converted.pth')
    convert_checkpoint('alpro_qa', src, dst)
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['converter'] == 'alpro_qa' and saved['state_dict'].keys() == state.keys()


def test_module_prefix_and_a_time_embed_of_another_length(vocab):
    official = random_official_qa_state(NUM_ANSWERS, num_frames=4, vocab_size=vocab['size'])
    state = convert_alpro_qa({'model': {f'module.{k}': v for k, v in official.items()}})
    model = _model(vocab, num_frames=8)  # resized on load, nearest, as ALPRO
    _load_strict(model, state)
    assert torch.equal(model.visual_encoder.time_embed[0, ::2], official['visual_encoder.model.time_embed'][0])


def test_clear_errors(vocab):
    official = _official(vocab)
    retrieval = random_official_alpro_state('retrieval', vocab_size=vocab['size'])
    with pytest.raises(KeyError, match='not an ALPRO QA checkpoint.*alpro converter'):
        convert_alpro_qa(retrieval)
    with pytest.raises(KeyError, match=r'not ALPRO QA keys \(no mapping\): text_encoder\.cls\.predictions\.bias'):
        convert_alpro_qa(dict(official, **{'text_encoder.cls.predictions.bias': torch.zeros(3)}))
    with pytest.raises(KeyError, match='missing ALPRO QA keys: classifier.2.bias'):
        convert_alpro_qa({k: v for k, v in official.items() if k != 'classifier.2.bias'})
    no_text = {k: v for k, v in official.items() if not k.startswith('text_encoder.')}
    with pytest.raises(KeyError, match='missing ALPRO QA keys: text_encoder'):
        convert_alpro_qa(no_text)
    mixed = dict(official)
    mixed['text_encoder.bert.embeddings.word_embeddings.weight'] = mixed.pop(
        'text_encoder.embeddings.word_embeddings.weight')
    with pytest.raises(ValueError, match='mixes'):
        convert_alpro_qa(mixed)
    with pytest.raises(KeyError, match='QA checkpoint'):
        convert_alpro(official)  # the retrieval converter still refuses QA files


def test_the_pretraining_checkpoint_starts_a_qa_fine_tune(vocab):
    """``load_from`` of the QA configs: the pretraining file (converter ``alpro``) loads into AlproQA with only the
    classifier missing and the unused heads unexpected, ``time_embed`` resized from 4 frames."""
    pretrain = convert_alpro(random_official_alpro_state('pretrain', vocab_size=vocab['size']))
    model = _model(vocab, num_frames=8)
    result = model.load_state_dict(pretrain, strict=False)
    assert sorted(result.missing_keys) == sorted(
        ['classifier.0.weight', 'classifier.0.bias', 'classifier.2.weight', 'classifier.2.bias'])
    assert set(result.unexpected_keys) == UNUSED


def test_metafile_entries_name_the_qa_converter():
    _, models = load_metafile(osp.join(REPO_ROOT, 'configs', 'alpro', 'metafile.yml'))
    entries = {m.name: m for m in models}
    for name in ('msrvtt-qa', 'msvd-qa'):
        entry = entries[f'alpro/timesformer-b16-bert-base_{name}']
        assert (entry.converter, entry.converter_options) == ('alpro_qa', {})
        assert entry.config == f'configs/alpro/timesformer-b16-bert-base_{name}.py'
        get_converter(entry.converter, entry.converter_options)
