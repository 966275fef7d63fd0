"""The model index: the repository's model-index.yml, extra metafiles, names, aliases and patterns."""
import pytest

from videoalign.hub import MetafileError, get_model_info
from videoalign.hub import index as hub_index
from videoalign.hub import list_models, register_metafile
from videoalign.hub.index import read_model_index, strip_scheme


def test_repository_index_lists_every_method():
    paths = read_model_index()
    assert [p.split('/')[-2] for p in paths
            ] == ['quickstart', 'xclip', 'aim', 'dualpath', 'efficient_prompt', 'bevt', 'alpro', 'pretrained']
    assert 'clip/vit-b16' in list_models() and 'xclip/vit-b16-8f_k400' in list_models()
    assert list_models('aim/vit-l14*') == ['aim/vit-l14-16f_k400', 'aim/vit-l14-32f_k400', 'aim/vit-l14_k400']
    info = get_model_info('videoalign://xclip/vit-b16-8f_k400')
    assert info.config == 'configs/xclip/vit-b16-8f_k400.py' and info.converter == 'xclip'
    assert info.weights.endswith('/k400_16_8.pth') and info.results[0]['Metrics']['Top 1 Accuracy'] == 83.8


def test_extra_metafiles_from_the_environment_and_registration(tmp_path, monkeypatch, write_metafile, hub_home):
    first = write_metafile(str(tmp_path / 'a.yml'), [{'Name': 'mine/a', 'Alias': ['a-alias']}])
    second = write_metafile(str(tmp_path / 'b.yml'), [{'Name': 'mine/b'}])
    monkeypatch.setenv(hub_index.ENV_METAFILES, first)
    monkeypatch.setattr(hub_index, '_registered', [])
    assert list_models('mine/*') == ['mine/a'] and get_model_info('a-alias').name == 'mine/a'
    register_metafile(second)
    assert list_models('mine/*') == ['mine/a', 'mine/b']

    clash = write_metafile(str(tmp_path / 'c.yml'), [{'Name': 'xclip/vit-b16-8f_k400'}])
    with pytest.raises(MetafileError, match="'xclip/vit-b16-8f_k400' is already used in .*xclip/metafile.yml"):
        register_metafile(clash)
    assert list_models('mine/*') == ['mine/a', 'mine/b']  # a refused metafile is not kept


def test_names():
    assert strip_scheme('videoalign://clip/vit-b16') == 'clip/vit-b16' == strip_scheme('clip/vit-b16')
    with pytest.raises(KeyError, match="no model named 'clip/vit-b61'.*did you mean clip/vit-b16"):
        get_model_info('clip/vit-b61')
