"""Base weights by name: OpenAI CLIP (TorchScript archive) through ``CLIPPretrained``, the DALL-E dVAE encoder, and
files used as published."""
import hashlib
import os.path as osp

import pytest
import torch

from videoalign.apis import get_checkpoint, load_checkpoint
from videoalign.hub.cache import download_path
from videoalign.models.backbones import CLIPViT
from videoalign.testing.checkpoints import TINY_CLIP_ARCH, make_dalle_encoder, make_openai_clip_archive


def test_clip_archive_by_name_initialises_a_backbone(hub_home, loopback, use_metafile, tmp_path):
    archive = str(tmp_path / 'ViT-tiny.pt')
    source = make_openai_clip_archive(archive, seed=3)
    data = open(archive, 'rb').read()
    loopback.files.add('/clip/ViT-tiny.pt', data)
    use_metafile([{
        'Name': 'loopback/clip-tiny',
        'Weights': loopback.url('/clip/ViT-tiny.pt'),
        'SHA256': hashlib.sha256(data).hexdigest(),
        'Converter': 'clip'
    }])

    backbone = CLIPViT(
        arch=TINY_CLIP_ARCH,
        num_frames=2,
        init_cfg=dict(type='CLIPPretrained', checkpoint='videoalign://loopback/clip-tiny', prefix='visual.'))
    backbone.init_weights()
    for name, param in backbone.named_parameters():
        assert torch.equal(param, source.visual.state_dict()[name].float()), name

    weights = load_checkpoint('loopback/clip-tiny')['state_dict']
    assert 'token_embedding.weight' in weights and 'input_resolution' not in weights
    assert weights['visual.transformer.resblocks.0.attn.in_proj_weight'].dtype == torch.float16  # kept as published
    assert loopback.files.count('/clip/ViT-tiny.pt') == 1


def test_dvae_encoder_and_files_used_as_published(hub_home, loopback, use_metafile, tmp_path):
    marker = str(tmp_path / 'MARKER')
    module = make_dalle_encoder(marker)
    torch.save(module, str(tmp_path / 'encoder.pkl'))
    loopback.files.add('/dall-e/encoder.pkl', open(tmp_path / 'encoder.pkl', 'rb').read())
    loopback.files.add('/bert/vocab.txt', b'[PAD]\n[UNK]\nthe\n')
    use_metafile([
        {
            'Name': 'loopback/dvae',
            'Weights': loopback.url('/dall-e/encoder.pkl'),
            'Converter': 'dvae'
        },
        {
            'Name': 'loopback/vocab',
            'Weights': loopback.url('/bert/vocab.txt'),
            'Converter': None,
            'Note': 'conversion not yet implemented'
        },
    ])
    state = load_checkpoint('loopback/dvae')['state_dict']
    assert all(torch.equal(state[k], v) for k, v in module.state_dict().items()) and len(state) == 6
    assert not osp.exists(marker)

    vocab = get_checkpoint('loopback/vocab', progress=False)
    assert vocab == download_path('loopback', loopback.url('/bert/vocab.txt'), 'vocab.txt')
    assert osp.dirname(vocab) == osp.join(hub_home, 'downloads', 'loopback', osp.basename(osp.dirname(vocab)))
    assert open(vocab, 'rb').read() == b'[PAD]\n[UNK]\nthe\n'
    with pytest.raises(ValueError, match='is not a torch checkpoint; use get_checkpoint'):
        load_checkpoint('loopback/vocab')
