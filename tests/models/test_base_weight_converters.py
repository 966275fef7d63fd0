"""Base weights read without running code: OpenAI CLIP TorchScript archives, the pickled DALL-E dVAE encoder, and
torch's legacy format through the inert unpickler."""
import os.path as osp
import pickle
import warnings

import pytest
import torch

from videoalign.models.converters import (convert_dalle_encoder, convert_openai_clip, load_official_checkpoint,
                                          load_torchscript_state_dict)
from videoalign.testing.checkpoints import RunsCode, make_dalle_encoder, make_openai_clip_archive


def test_torchscript_archive_is_read_as_data(tmp_path):
    path = str(tmp_path / 'ViT-tiny.pt')
    module = make_openai_clip_archive(path)
    state = load_torchscript_state_dict(path)
    expected = module.state_dict()
    # every tensor attribute: the weights, the size entries, and the text tower's causal masks (not in a state dict)
    assert sorted(set(state) - set(expected)) == ['transformer.resblocks.0.attn_mask']
    for key, value in expected.items():
        assert state[key].dtype == value.dtype and torch.equal(state[key], value), key
    assert state['visual.transformer.resblocks.0.attn.in_proj_weight'].dtype == torch.float16
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        scripted = torch.jit.load(path).state_dict()  # what reading it with TorchScript gives
    assert all(torch.equal(state[k], v) for k, v in scripted.items())

    weights = convert_openai_clip(state)
    assert set(weights) == set(expected) - {'input_resolution', 'context_length', 'vocab_size'}
    with pytest.raises(KeyError, match='not an OpenAI CLIP state dict'):
        convert_openai_clip({'conv.weight': torch.ones(1)})
    with pytest.raises(ValueError, match='not a TorchScript archive'):
        load_torchscript_state_dict(__file__)


@pytest.mark.filterwarnings("ignore:Couldn't retrieve source code")  # the legacy format checks module sources
@pytest.mark.parametrize('zipped', [True, False], ids=['zip', 'legacy'])
def test_pickled_dalle_encoder_to_state_dict_without_running_code(tmp_path, zipped):
    marker = str(tmp_path / 'MARKER')
    module = make_dalle_encoder(marker)
    path = str(tmp_path / 'encoder.pkl')
    torch.save(module, path, _use_new_zipfile_serialization=zipped)
    state = convert_dalle_encoder(load_official_checkpoint(path))
    expected = module.state_dict()
    assert list(state) == list(expected) == [
        'blocks.input.w', 'blocks.input.b', 'blocks.group_1.block_1.conv_1.w', 'blocks.group_1.block_1.conv_1.b',
        'blocks.output.conv.w', 'blocks.output.conv.b'
    ]
    assert all(torch.equal(state[k], v) and not state[k].requires_grad for k, v in expected.items())
    assert not osp.exists(marker)
    with pytest.raises(ValueError, match='no encoder weights'):
        convert_dalle_encoder({'epoch': 3})


def test_legacy_format_header_is_not_unpickled_as_code(tmp_path):
    marker = str(tmp_path / 'MARKER')
    path = str(tmp_path / 'evil.pth')
    with open(path, 'wb') as f:
        pickle.dump(RunsCode(marker), f, protocol=2)  # torch's legacy loader reads this as its header record
    with pytest.raises(RuntimeError):
        load_official_checkpoint(path)
    assert not osp.exists(marker)
