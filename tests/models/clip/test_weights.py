"""Tests of loading base CLIP weights: file formats, URLs, open_clip names and the CLIPPretrained initializer."""
import ast
import functools
import http.server
import pickle
import threading
import warnings

import open_clip
import pytest
import torch
from mmengine.registry import DefaultScope

from videoalign.models.backbones import clip_vit
from videoalign.models.backbones.clip_vit import CLIPViT, resize_pos_embed
from videoalign.models.clip import weights as clip_checkpoint
from videoalign.models.clip.archs import get_clip_arch
from videoalign.models.clip.weights import CLIPPretrainedInit, load_clip_state_dict, load_clip_weights
from videoalign.models.converters.torchscript import is_torchscript_archive
from videoalign.registry import WEIGHT_INITIALIZERS
from videoalign.testing.checkpoints import tiny_open_clip


class NotATensor:
    """An arbitrary class: a pickle holding it would run code when loaded."""


@pytest.fixture(scope='module')
def ref():
    return tiny_open_clip()


@pytest.fixture(scope='module')
def ckpt_dir(ref, tmp_path_factory):
    """The same weights as a plain state dict, an open_clip training checkpoint and a TorchScript archive."""
    root = tmp_path_factory.mktemp('clip_ckpts')
    state = ref.state_dict()
    torch.save(state, root / 'plain.pth')
    torch.save(
        dict(epoch=3, name='tiny', state_dict={
            f'module.{k}': v
            for k, v in state.items()
        }), root / 'open_clip.pt')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TracerWarnings and the deprecation of TorchScript
        traced = torch.jit.trace(
            ref, (torch.randn(1, 3, 32, 32), torch.zeros(1, 77, dtype=torch.long)), check_trace=False)
        traced.save(str(root / 'ViT-tiny.pt'))
    torch.save(dict(state_dict=state, extra=NotATensor()), root / 'with_code.pth')
    return root


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(clip_checkpoint, 'print_log', lambda msg, *args, **kwargs: messages.append(msg))
    return messages


def _logged_keys(messages, head):
    lines = [m for m in messages if m.startswith(head)]
    if not lines:
        return set()
    assert len(lines) == 1
    return set(ast.literal_eval(lines[0][lines[0].index('['):]))


@pytest.mark.parametrize('name', ['plain.pth', 'open_clip.pt', 'ViT-tiny.pt'])
def test_local_formats(ref, ckpt_dir, name):
    state = load_clip_state_dict(str(ckpt_dir / name))
    expected = ref.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(state[key], value, msg=key)
    assert is_torchscript_archive(str(ckpt_dir / name)) == (name == 'ViT-tiny.pt')


def test_custom_text_layout(ref, tmp_path):
    state = {
        k if k.startswith('visual.') or k == 'logit_scale' else f'text.{k}': v
        for k, v in ref.state_dict().items()
    }
    state['text.attn_mask'] = torch.zeros(77, 77)
    torch.save(state, tmp_path / 'custom_text.pt')
    assert set(load_clip_state_dict(str(tmp_path / 'custom_text.pt'))) == set(ref.state_dict())


@pytest.mark.parametrize('block', ['CLIPBlock', 'XCLIPBlock'])
@pytest.mark.parametrize('name', ['open_clip.pt', 'ViT-tiny.pt'])
def test_clip_pretrained_init(ref, ckpt_dir, logs, block, name):
    init_cfg = dict(type='CLIPPretrained', checkpoint=str(ckpt_dir / name), prefix='visual.')
    model = CLIPViT('tiny', num_frames=3, block_cfg=dict(type=block), init_cfg=init_cfg).eval()
    model.init_weights()
    missing = _logged_keys(logs, 'missing keys')
    assert _logged_keys(logs, 'unexpected keys') == set()
    if block == 'CLIPBlock':
        assert missing == set()
    else:
        assert missing and all('.message_' in key for key in missing)
        assert missing == {k for k in model.state_dict() if '.message_' in k}
    visual = {k[len('visual.'):]: v for k, v in ref.state_dict().items() if k.startswith('visual.')}
    for key, value in visual.items():
        torch.testing.assert_close(model.state_dict()[key], value, msg=key)
    if block == 'CLIPBlock':
        clip = torch.randn(1, 3, 3, 32, 32)
        with torch.no_grad():
            expected = ref.encode_image(clip.transpose(1, 2).reshape(3, 3, 32, 32))
        torch.testing.assert_close(model(clip).frame_embeds[0], expected, atol=1e-5, rtol=0)


def test_unexpected_keys_logged(ckpt_dir, logs):
    model = CLIPViT('tiny', use_proj=False)
    result = load_clip_weights(model, str(ckpt_dir / 'plain.pth'))
    assert result.unexpected_keys == ['proj'] and result.missing_keys == []
    assert _logged_keys(logs, 'unexpected keys') == {'proj'}
    # prefix '' with exclusions, as for a text tower whose keys sit at the top level
    text_part = torch.nn.ModuleDict(
        dict(token_embedding=torch.nn.Embedding(49408, 32), ln_final=torch.nn.LayerNorm(32)))
    result = load_clip_weights(text_part, str(ckpt_dir / 'plain.pth'), prefix='', exclude=('visual.', 'logit_scale'))
    assert result.missing_keys == [] and 'transformer.resblocks.0.attn.in_proj_weight' in result.unexpected_keys
    assert not any(k.startswith(('visual.', 'logit_scale')) for k in result.unexpected_keys)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16])
def test_other_grid_is_interpolated(tmp_path, monkeypatch, dtype):
    logs = []
    monkeypatch.setattr(clip_vit, 'print_log', lambda msg, *args, **kwargs: logs.append(msg))
    small = tiny_open_clip(image_size=32)  # grid 4x4
    state = {k: v.to(dtype) for k, v in small.state_dict().items()}
    torch.save(state, tmp_path / 'small.pth')
    arch = get_clip_arch('tiny')
    arch['vision']['image_size'] = 48  # grid 6x6
    model = CLIPViT(arch, init_cfg=dict(type='CLIPPretrained', checkpoint=str(tmp_path / 'small.pth'))).eval()
    model.init_weights()
    assert model.positional_embedding.shape == (37, 64)
    expected = resize_pos_embed(state['visual.positional_embedding'], (4, 4), (6, 6)).float()
    torch.testing.assert_close(model.positional_embedding.data, expected)
    assert any(m.startswith('resize positional_embedding from (17, 64)') for m in logs)
    assert model(torch.randn(1, 3, 2, 48, 48)).patch_tokens.shape == (1, 2, 36, 64)
    # and a 48 checkpoint back into a 32 model
    big = tiny_open_clip(image_size=48)
    model32 = CLIPViT('tiny')
    model32.load_state_dict({k[7:]: v for k, v in big.state_dict().items() if k.startswith('visual.')})
    torch.testing.assert_close(model32.positional_embedding.data,
                               resize_pos_embed(big.visual.positional_embedding.data, (6, 6), (4, 4)))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(ckpt_dir, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    for var in ('NO_PROXY', 'no_proxy'):
        monkeypatch.setenv(var, '127.0.0.1,localhost')
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(ckpt_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_url_sources(ref, server, tmp_path, logs):
    state = load_clip_state_dict(f'{server}/open_clip.pt')
    assert set(state) == set(ref.state_dict())
    assert len(list((tmp_path / 'torch_home' / 'hub' / 'checkpoints').glob('*/open_clip.pt'))) == 1  # keyed by URL
    model = CLIPViT(
        'tiny',
        block_cfg=dict(type='XCLIPBlock'),
        init_cfg=dict(type='CLIPPretrained', checkpoint=f'{server}/plain.pth'))
    model.init_weights()
    torch.testing.assert_close(model.proj.data, ref.visual.proj.data)
    with pytest.raises(ValueError, match='TorchScript.*local path'):
        load_clip_state_dict(f'{server}/ViT-tiny.pt')
    with pytest.raises(pickle.UnpicklingError, match='NotATensor.*never unpickled in full'):
        load_clip_state_dict(f'{server}/with_code.pth')


def test_open_clip_names(ref, monkeypatch):
    calls = []

    def fake_create_model(name, pretrained=None, **kwargs):
        calls.append((name, pretrained))
        return ref

    monkeypatch.setattr(open_clip, 'create_model', fake_create_model)
    assert set(load_clip_state_dict('openai:ViT-B-16')) == set(ref.state_dict())
    load_clip_state_dict(('ViT-B-16', 'laion2b_s34b_b88k'))
    load_clip_state_dict('hf-hub:timm/some-clip')
    assert calls == [('ViT-B-16', 'openai'), ('ViT-B-16', 'laion2b_s34b_b88k'), ('hf-hub:timm/some-clip', None)]

    def offline_create_model(name, pretrained=None, **kwargs):
        raise OSError('network unreachable')

    monkeypatch.setattr(open_clip, 'create_model', offline_create_model)
    with pytest.raises(RuntimeError, match="'ViT-L-14'.*'openai'.*local file"):
        load_clip_state_dict('openai:ViT-L-14')


def test_errors(ckpt_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='openai:ViT-B-16'):
        load_clip_state_dict(str(tmp_path / 'missing.pt'))
    with pytest.raises(KeyError, match='image.'):
        load_clip_weights(CLIPViT('tiny'), str(ckpt_dir / 'plain.pth'), prefix='image.')
    torch.save({'epoch': 1}, tmp_path / 'empty.pth')
    with pytest.raises(KeyError, match='no weights'):
        load_clip_state_dict(str(tmp_path / 'empty.pth'))


def test_registered_initializer(ckpt_dir, ref):
    init = WEIGHT_INITIALIZERS.build(dict(type='CLIPPretrained', checkpoint=str(ckpt_dir / 'plain.pth')))
    assert isinstance(init, CLIPPretrainedInit) and init.prefix == 'visual.'
    assert 'plain.pth' in init._get_init_info()
    # mmengine's own initialize() finds it under the videoalign scope (for modules other than CLIPViT)
    from mmengine.model import initialize
    model = CLIPViT('tiny')
    with DefaultScope.overwrite_default_scope('videoalign'):
        initialize(model, dict(type='CLIPPretrained', checkpoint=str(ckpt_dir / 'plain.pth')))
    torch.testing.assert_close(model.class_embedding.data, ref.visual.class_embedding.data)


def test_nested_backbone_init(ckpt_dir, ref, logs):
    """Inside a model (as a recognizer's backbone) the weights load during the model's init_weights."""
    from mmengine.model import BaseModule

    class Wrapper(BaseModule):

        def __init__(self):
            super().__init__()
            self.backbone = CLIPViT(
                'tiny',
                block_cfg=dict(type='XCLIPBlock'),
                init_cfg=dict(type='CLIPPretrained', checkpoint=str(ckpt_dir / 'plain.pth')))
            self.head = torch.nn.Linear(32, 4)

    model = Wrapper()
    model.init_weights()
    assert model.backbone.is_init
    torch.testing.assert_close(model.backbone.conv1.weight.data, ref.visual.conv1.weight.data)
    assert len(_logged_keys(logs, 'missing keys')) == 2 * 8  # 8 message_* tensors in each of the 2 blocks
