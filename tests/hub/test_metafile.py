"""Metafile reading: the repository's metafiles, and clear errors for malformed ones."""
import glob
import os.path as osp

import pytest

from videoalign.hub import MetafileError, load_metafile
from videoalign.models.converters import converter_names
from videoalign.testing import REPO_ROOT

METAFILES = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'metafile.yml')))
GOOD = {'Name': 'mine/model', 'Weights': 'https://example.org/m.pth', 'Converter': 'aim'}


@pytest.mark.parametrize('path', METAFILES, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_repository_metafiles(path):
    collections, models = load_metafile(path)
    assert collections and models
    for model in models:
        assert model.collection in {c.name for c in collections}
        if model.config:
            assert osp.isfile(osp.join(REPO_ROOT, model.config)), model.config
        if model.weights:
            assert model.converter in converter_names() or model.converter is None
            assert model.file_name and (not model.manual or model.instructions)
        if model.converter is None and model.weights and model.method in ('bevt', 'alpro'):
            assert model.note.startswith('Conversion not yet implemented')


def test_every_config_has_an_entry():
    names = {m.name for path in METAFILES for m in load_metafile(path)[1]}
    configs = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py')))
    missing = [
        c for c in configs
        if '_base_' not in c and f'{osp.basename(osp.dirname(c))}/{osp.splitext(osp.basename(c))[0]}' not in names
    ]
    assert not missing, f'configs without a metafile entry: {missing}'


def test_base_weights_are_listed():
    names = {m.name: m for m in load_metafile(osp.join(REPO_ROOT, 'configs', 'pretrained', 'metafile.yml'))[1]}
    for arch in ('vit-b32', 'vit-b16', 'vit-l14', 'vit-l14-336px'):
        entry = names[f'clip/{arch}']
        assert entry.converter == 'clip' and entry.sha256 in entry.weights  # OpenAI's address holds its sha256
    assert names['dalle/dvae-encoder'].weights == 'https://cdn.openai.com/dall-e/encoder.pkl'
    assert {n
            for n in names if n.startswith('bert-base-uncased/')} == {
                'bert-base-uncased/weights', 'bert-base-uncased/config', 'bert-base-uncased/vocab',
                'bert-base-uncased/tokenizer-config'
            }


@pytest.mark.parametrize('change, message', [
    ({
        'Sha256': 'ab'
    }, "unknown key(s) ['Sha256']"),
    ({
        'SHA256': 'ABC'
    }, 'SHA256: expected 64 lower-case hex digits'),
    ({
        'Converter': 'xclipp'
    }, "Converter: 'xclipp' is not one of aim, alpro, alpro_imagenet_vit, alpro_qa, bevt_finetune"),
    ({
        'Download': 'google-drive'
    }, 'Download: google-drive needs File Name and Instructions'),
    ({
        'Download': 'ftp'
    }, "Download: 'ftp' is not one of direct"),
    ({
        'Weights': 'drive.google.com/x'
    }, 'Weights: expected an http(s) address'),
    ({
        'Name': 'Mine model'
    }, 'is not of the form <method>/<name>'),
    ({
        'Config': 'configs/aim/vit-b16_k400.py'
    }, 'Name: an entry with a Config is named <config folder>/<config '
     'stem>: aim/vit-b16_k400'),
    ({
        'In Collection': 'Other'
    }, "In Collection: 'Other' is not a Collections Name"),
    ({
        'Converter Options': ['drop_visual']
    }, 'Converter Options: expected a mapping'),
    ({
        'Results': [{
            'Dataset': 'K400',
            'Metrics': {
                'Top 1 Accuracy': 'high'
            }
        }]
    }, "expected a number, got 'high'"),
    ({
        'Metadata': {
            'Flops': '1G'
        }
    }, "Metadata: unknown key(s) ['Flops']"),
])
def test_malformed_entries_name_the_file_and_key(tmp_path, write_metafile, change, message):
    path = write_metafile(str(tmp_path / 'metafile.yml'), [dict(GOOD, **change)])
    with pytest.raises(MetafileError) as info:
        load_metafile(path)
    assert str(info.value).startswith(f'{path}: Models[0]')
    assert message in str(info.value)


def test_entry_fields_and_defaults(tmp_path, write_metafile):
    path = write_metafile(
        str(tmp_path / 'metafile.yml'), [
            dict(GOOD, Alias=['m']),
            {
                'Name': 'mine/by-hand',
                'Weights': 'https://drive.google.com/file/d/abc',
                'Download': 'google-drive',
                'File Name': 'abc.pth',
                'Instructions': 'Open it.',
                'Converter': 'efficient_prompt',
                'Converter Options': {
                    'drop_visual': True
                }
            },
            {
                'Name': 'mine/no-weights',
                'Note': 'none published'
            },
        ])
    direct, by_hand, none = load_metafile(path)[1]
    assert (direct.method, direct.short_name, direct.file_name, direct.download,
            direct.aliases) == ('mine', 'model', 'm.pth', 'direct', ('m', ))
    assert by_hand.manual and by_hand.file_name == 'abc.pth' and by_hand.converter_options == {'drop_visual': True}
    assert none.weights is None and none.file_name is None and none.note == 'none published'


def test_duplicate_names_and_bad_yaml(tmp_path, write_metafile):
    path = write_metafile(str(tmp_path / 'dup.yml'), [GOOD, dict(GOOD, Weights='https://example.org/n.pth')])
    with pytest.raises(MetafileError, match="duplicate name 'mine/model'"):
        load_metafile(path)
    bad = tmp_path / 'bad.yml'
    bad.write_text('Models: [\n')
    with pytest.raises(MetafileError, match='not valid YAML'):
        load_metafile(str(bad))
