"""The ``alpro`` converter: official and LAVIS ALPRO files (pretraining with its prompter, retrieval) to
``AlproRetrieval``, checked key by key and against transcriptions of the official forward
(:mod:`videoalign.testing.alpro_reference`) on random tiny official-layout state dicts."""
import os.path as osp
from collections import OrderedDict
from typing import Dict

import pytest
import torch

from videoalign.hub import load_metafile
from videoalign.models.algorithms import AlproRetrieval
from videoalign.models.converters import convert_checkpoint, get_converter
from videoalign.models.converters.alpro import convert_alpro, convert_alpro_visual, detect_alpro_checkpoint
from videoalign.registry import MODELS
from videoalign.testing import REPO_ROOT
from videoalign.testing.alpro import TINY_ALPRO_VISUAL, tiny_alpro_retrieval, write_vocab
from videoalign.testing.alpro_reference import official_retrieval_scores, random_official_alpro_state, strip_prefix

TEXTS = ['a red circle moves to the left', 'the dog runs .', 'what color is the square ?', 'a man plays guitar']
# the tiny model of videoalign.testing.alpro: video heads 2, 8 px patches; BERT heads 2, fusion from layer 2
SIZES = dict(video_heads=2, patch_size=8, text_heads=2, fusion_layer=2)


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> Dict[str, object]:
    path = str(tmp_path_factory.mktemp('alpro_vocab') / 'vocab.txt')
    return dict(path=path, size=write_vocab(path, TEXTS))


def _model(vocab: dict, num_frames: int = 4) -> AlproRetrieval:
    torch.manual_seed(5)
    cfg = tiny_alpro_retrieval(
        vocab['path'], vocab['size'], visual_encoder=dict(TINY_ALPRO_VISUAL, num_frames=num_frames))
    return MODELS.build(cfg).eval()


def _official(vocab: dict, kind: str = 'retrieval', **kwargs) -> Dict[str, torch.Tensor]:
    return random_official_alpro_state(kind, vocab_size=vocab['size'], **kwargs)


def _lavis(official: Dict[str, torch.Tensor], mlm_head: bool = True) -> dict:
    """LAVIS's file of an official state dict: ``AlproBase.load_from_pretrained`` replaces ``'bert.'`` by ``''`` in
    every key that contains ``bert``; its ``XBertEncoder`` (a ``BertModel``) has no MLM head."""
    state = OrderedDict()
    for key, value in official.items():
        if 'bert' in key:
            key = key.replace('bert.', '')
        if mlm_head or '.cls.' not in key:
            state[key] = value
    return {'model': state}


def _load_strict(model: torch.nn.Module, state: dict) -> None:
    result = model.load_state_dict(state, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []


# ---------------------------------------------------------------------------------------------------------------
# loading and the official forward


@pytest.mark.parametrize('kind', ['retrieval', 'pretrain'])
@pytest.mark.parametrize('layout', ['official', 'lavis'])
def test_converted_model_computes_the_official_retrieval_forward(vocab, kind, layout):
    official = _official(vocab, kind)
    file = official if layout == 'official' else _lavis(official)
    assert detect_alpro_checkpoint(file) == dict(layout=layout, kind=kind)
    state = convert_alpro(file)
    assert not any(k.startswith(('prompter.', 'mpm_head.')) for k in state)  # task='retrieval' drops them
    model = _model(vocab)
    _load_strict(model, state)

    torch.manual_seed(0)
    video = torch.randn(2, 3, 4, 32, 32)  # (V, C, T, H, W), normalised
    with torch.no_grad():
        ref = official_retrieval_scores(official, video.transpose(1, 2), *_tokens(model), **SIZES)
        v = model.encode_video(video)
        t = model.encode_text(TEXTS)
        torch.testing.assert_close(v['video_tokens'], ref['video_embeds'], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(v['video_feat'], ref['video_feat'], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(t['text_states'], ref['text_embeds'], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(t['text_feat'], ref['text_feat'], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(
            v['video_feat'] @ t['text_feat'].t() / model.temp, ref['itc_scores'], rtol=1e-4, atol=1e-4)
        for i in range(2):  # every text against video i, as forward_inference
            tokens = v['video_tokens'][i:i + 1].expand(len(TEXTS), -1, -1)
            logits = model.itm_logits(t['text_states'], t['text_mask'], tokens)
            torch.testing.assert_close(logits, ref['itm_logits'][i], rtol=1e-4, atol=1e-5)
    assert float(ref['itm_logits'].std()) > 1e-3  # the pairs are told apart: the comparison means something


def _tokens(model: AlproRetrieval):
    enc = model.tokenizer(TEXTS)
    assert enc['attention_mask'].sum(1).tolist() != [enc['attention_mask'].shape[1]] * len(TEXTS)  # some padding
    return enc['input_ids'], enc['attention_mask']


def test_time_embed_of_four_frames_is_resized_nearest_to_the_model_frames(vocab):
    official = _official(vocab, 'pretrain', num_frames=4)
    model = _model(vocab, num_frames=8)
    _load_strict(model, convert_alpro(official))
    time_embed = official['visual_encoder.model.time_embed']
    assert model.visual_encoder.time_embed.shape == (1, 8, 32)
    torch.testing.assert_close(
        model.visual_encoder.time_embed.data, time_embed[:, [0, 0, 1, 1, 2, 2, 3, 3]], rtol=0, atol=0)
    torch.manual_seed(1)
    video = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():  # the official forward interpolates the 4-frame time_embed itself (nearest)
        ref = official_retrieval_scores(official, video.transpose(1, 2), *_tokens(model), **SIZES)
        torch.testing.assert_close(model.encode_video(video)['video_tokens'], ref['video_embeds'], rtol=1e-4, atol=1e-5)


def test_lavis_layout_gives_the_official_tensors(vocab):
    for kind in ('retrieval', 'pretrain'):
        official = _official(vocab, kind)
        for task in ('retrieval', 'pretrain'):
            from_official = convert_alpro(official, task=task)
            from_lavis = convert_alpro(_lavis(official), task=task)
            assert list(from_lavis) == list(from_official)
            assert all(from_lavis[k] is v for k, v in from_official.items())  # the same tensors, not copies
    # the DDP prefix is removed
    ddp = convert_alpro({'module.' + k: v for k, v in official.items()})
    assert ddp.keys() == convert_alpro(official).keys()


def test_the_mlm_head_is_optional_and_dropped_for_retrieval(vocab):
    """A LAVIS-saved file has no MLM head; retrieval has none either, pretraining keeps it where it is."""
    official = _official(vocab)
    without = _lavis(official, mlm_head=False)
    assert detect_alpro_checkpoint(without)['layout'] == 'lavis'
    assert convert_alpro(without).keys() == convert_alpro(official).keys()
    assert not any(k.startswith('text_encoder.cls.') for k in convert_alpro(official))
    _model(vocab).load_state_dict(convert_alpro(without), strict=True)
    pretrain = convert_alpro(official, task='pretrain')
    assert pretrain['text_encoder.cls.predictions.bias'] is official['text_encoder.cls.predictions.bias']
    assert not any(k.startswith('text_encoder.cls.') for k in convert_alpro(without, task='pretrain'))


def test_key_mapping(vocab):
    official = _official(vocab, 'pretrain')
    state = convert_alpro(official)
    visual = convert_alpro_visual(official)
    assert {k for k in state if k.startswith('visual_encoder.')} == {f'visual_encoder.{k}' for k in visual}
    assert state['visual_encoder.transformer_layers.layers.1.attentions.0.attn.in_proj_weight'] is \
        official['visual_encoder.model.blocks.1.temporal_attn.qkv.weight']
    for key in ('temp', 'vision_proj.weight', 'text_proj.bias', 'itm_head.weight',
                'text_encoder.bert.encoder.layer.3.output.LayerNorm.bias'):
        assert state[key] is official[key], key
    assert 'text_encoder.bert.embeddings.position_ids' not in state  # a buffer ALPROBert does not keep
    assert not any('.head.' in k for k in state)


# ---------------------------------------------------------------------------------------------------------------
# task='pretrain': the prompter and mpm_head kept


def test_pretrain_task_keeps_the_prompter_and_mpm_head(vocab):
    official = _official(vocab, 'pretrain')
    state = convert_alpro(official, task='pretrain')
    for key in ('mpm_head.0.weight', 'mpm_head.0.bias', 'mpm_head.2.weight', 'mpm_head.2.bias',
                'prompter.video_prompt_feat', 'prompter.image_prompt_feat', 'prompter.temp', 'prompter.itm_head.bias'):
        assert state[key] is official[key], key
    student = {k: v for k, v in state.items() if not k.startswith(('prompter.', 'mpm_head.'))}
    retrieval = convert_alpro(official)
    assert student.keys() - retrieval.keys() == {k for k in official if k.startswith('text_encoder.cls.')}

    # the prompter is mapped as the student is, and loads strictly into a retrieval model
    prompter = strip_prefix(state, 'prompter.')
    feats = {k: prompter.pop(k) for k in ('video_prompt_feat', 'image_prompt_feat')}
    assert all(f.shape == (10, 16) for f in feats.values())
    assert prompter.keys() == retrieval.keys()  # the prompter's unused MLM head is dropped
    assert prompter['visual_encoder.cls_token'] is official['prompter.visual_encoder.model.cls_token']
    assert prompter['text_encoder.bert.embeddings.word_embeddings.weight'] is \
        official['prompter.text_encoder.bert.embeddings.word_embeddings.weight']
    _load_strict(_model(vocab), prompter)


def test_a_prompter_file(vocab):
    """A ``Prompter``'s own state (``prompter_pretrained.pt``): the model keys and the two prompt features."""
    prompter = _official(vocab, 'prompter')
    assert detect_alpro_checkpoint(prompter) == dict(layout='official', kind='pretrain')
    _load_strict(_model(vocab), convert_alpro(prompter))
    kept = convert_alpro(prompter, task='pretrain')
    assert kept['video_prompt_feat'] is prompter['video_prompt_feat']
    mlm_head = {k for k in prompter if k.startswith('text_encoder.cls.')}
    assert kept.keys() - convert_alpro(prompter).keys() == {'video_prompt_feat', 'image_prompt_feat'} | mlm_head


# ---------------------------------------------------------------------------------------------------------------
# errors


def test_errors(vocab):
    official = _official(vocab, 'pretrain')
    with pytest.raises(KeyError, match=r'not ALPRO keys \(no mapping\): text_encoder\.bert\.pooler\.dense\.weight'):
        convert_alpro(dict(official, **{'text_encoder.bert.pooler.dense.weight': torch.zeros(1)}))
    with pytest.raises(KeyError, match=r'no mapping\): queue, prompter\.mpm_head\.0\.weight'):
        convert_alpro(dict(official, **{'prompter.mpm_head.0.weight': torch.zeros(1), 'queue': torch.zeros(1)}))
    with pytest.raises(KeyError, match=r'not ALPRO video encoder keys \(no mapping\): prompter\.visual_encoder'):
        convert_alpro(dict(official, **{'prompter.visual_encoder.model.blocks.0.attn.q_bias': torch.zeros(1)}))
    qa = {k.replace('text_encoder.bert.', 'text_encoder.'): v for k, v in _official(vocab).items() if '.cls.' not in k}
    qa['classifier.0.weight'] = torch.zeros(4, 32)
    with pytest.raises(KeyError, match=r'ALPRO QA checkpoint \(classifier\.0\.weight'):
        convert_alpro(qa)
    with pytest.raises(KeyError, match=r'missing ALPRO keys: itm_head\.weight, itm_head\.bias'):
        convert_alpro({k: v for k, v in official.items() if not k.startswith('itm_head.')})
    with pytest.raises(KeyError, match=r'missing ALPRO keys: prompter\.temp'):
        convert_alpro({k: v for k, v in official.items() if k != 'prompter.temp'})
    with pytest.raises(KeyError, match="no key of the state dict starts with 'visual_encoder.model.'"):
        convert_alpro({k: v for k, v in official.items() if not k.startswith('visual_encoder.')})
    with pytest.raises(KeyError, match='no ALPRO text-encoder key'):  # not an ALPRO file: a bare video encoder
        convert_alpro(strip_prefix(official, 'visual_encoder.model.'))
    mixed = dict(official)
    mixed['text_encoder.embeddings.word_embeddings.weight'] = mixed[
        'text_encoder.bert.embeddings.word_embeddings.weight']
    with pytest.raises(ValueError, match='mixes the official'):
        convert_alpro(mixed)
    with pytest.raises(ValueError, match='task must be one of retrieval, pretrain'):
        convert_alpro(official, task='qa')
    with pytest.raises(TypeError, match='an official ALPRO checkpoint is a dict'):
        convert_alpro([official])


# ---------------------------------------------------------------------------------------------------------------
# the registry and the metafile


@pytest.mark.parametrize('layout', ['official', 'lavis'])
def test_convert_by_name_from_a_file(tmp_path, vocab, layout):
    official = _official(vocab, 'pretrain')
    src = str(tmp_path / 'alpro_pretrain.pt')
    torch.save(official if layout == 'official' else _lavis(official), src)
    state, meta = get_converter('alpro')(src)
    assert meta == dict(alpro_layout=layout, alpro_kind='pretrain')
    _load_strict(_model(vocab), state)

    dst = str(tmp_path / 'converted.pth')
    convert_checkpoint('alpro', src, dst, dict(task='pretrain'))
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['converter'] == 'alpro' and saved['meta']['converter_options'] == dict(task='pretrain')
    assert saved['meta']['alpro_layout'] == layout
    assert saved['state_dict'].keys() == convert_alpro(official, task='pretrain').keys()
    with pytest.raises(TypeError, match='do not fit the'):
        get_converter('alpro', dict(num_frames=8))


def test_metafile_entries_name_the_alpro_converter():
    _, models = load_metafile(osp.join(REPO_ROOT, 'configs', 'alpro', 'metafile.yml'))
    converters = {m.name: (m.converter, m.converter_options) for m in models}
    for name in ('pretrain', 'msrvtt-retrieval', 'didemo-retrieval'):
        assert converters[f'alpro/timesformer-b16-bert-base_{name}'] == ('alpro', {
            'task': 'retrieval'
        } if name == 'pretrain' else {})
    for name in ('msrvtt-qa', 'msvd-qa'):
        assert converters[f'alpro/timesformer-b16-bert-base_{name}'] == ('alpro_qa', {})
    for converter, options in converters.values():
        if converter is not None:
            get_converter(converter, options)
