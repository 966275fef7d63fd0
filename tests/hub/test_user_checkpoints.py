"""Your own checkpoints by name: a metafile of yours (``VIDEOALIGN_METAFILES``) lists checkpoints of a config of the
package under names of your choosing, with local ``Weights`` that the hub uses where they are, checked by hash."""
import hashlib
import os
import os.path as osp

import pytest
import torch
from mmengine.logging import HistoryBuffer

from videoalign.apis import init_model
from videoalign.hub import ChecksumError, HubError, MetafileError, get_checkpoint, list_models, load_metafile
from videoalign.hub.index import INDEX_ROOT
from videoalign.testing import R3D_TINY_OPTIONS

CONFIG = 'configs/quickstart/r3d-tiny-8f_synthetic.py'
OPTIONS = {key: int(value) for key, value in (option.split('=') for option in R3D_TINY_OPTIONS)}
CLASSES = tuple(f'class {i}' for i in range(10))


@pytest.fixture(scope='module')
def tiny_state() -> dict:
    """The state dict of the tiny quick-start 3D ResNet with random weights."""
    model = init_model(osp.join(INDEX_ROOT, CONFIG), cfg_options=OPTIONS)
    torch.manual_seed(3)
    return {k: torch.randn_like(v) if v.is_floating_point() else v.clone() for k, v in model.state_dict().items()}


def runner_layout(state: dict) -> dict:
    """What mmengine's Runner saves: meta, state_dict, optimizer, message_hub (with a HistoryBuffer)."""
    return {
        'meta': {
            'epoch': 3,
            'iter': 30,
            'seed': 0,
            'dataset_meta': {
                'classes': CLASSES
            }
        },
        'state_dict': state,
        'optimizer': {
            'state': {
                0: {
                    'momentum_buffer': torch.zeros(3)
                }
            },
            'param_groups': [{
                'lr': 0.1,
                'params': [0]
            }]
        },
        'message_hub': {
            'log_scalars': {
                'train/loss': HistoryBuffer([1.0, 0.5], [1, 1])
            },
            'runtime_info': {
                'epoch': 3
            }
        },
    }


def published_layout(state: dict) -> dict:
    """What tools/analysis/publish_model.py saves: tensors and plain meta only."""
    return {'meta': {'dataset_meta': {'classes': CLASSES}}, 'state_dict': state}


def save(obj: dict, folder: str, stem: str, hash_in_name: bool = False) -> tuple:
    """``torch.save`` to ``<stem>.pth`` (or ``<stem>-<sha256[:8]>.pth``); returns (path, sha256)."""
    path = osp.join(folder, f'{stem}.pth')
    torch.save(obj, path)
    with open(path, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    if hash_in_name:
        os.replace(path, osp.join(folder, f'{stem}-{sha[:8]}.pth'))
        path = osp.join(folder, f'{stem}-{sha[:8]}.pth')
    return path, sha


def assert_same_weights(model: torch.nn.Module, state: dict) -> None:
    loaded = model.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_runner_and_published_checkpoints_load_by_name(tmp_path, hub_home, use_metafile, tiny_state):
    runner, runner_sha = save(runner_layout(tiny_state), str(tmp_path), 'epoch_3')
    published, _ = save(published_layout(tiny_state), str(tmp_path), 'r3d-tiny-finetuned', hash_in_name=True)
    use_metafile([
        {
            'Name': 'mine/r3d-runner',
            'Config': CONFIG,
            'Weights': 'file://' + runner,
            'SHA256': runner_sha
        },
        {
            'Name': 'mine/r3d-published',
            'Config': CONFIG,
            'Alias': ['my-r3d'],
            'Weights': './' + osp.basename(published)  # relative to the metafile, hash checked from the name
        },
    ])
    assert list_models('mine/*') == ['mine/r3d-published', 'mine/r3d-runner']
    for name, path in (('mine/r3d-runner', runner), ('my-r3d', published)):
        assert get_checkpoint(name) == path  # used where it is, not copied
        model = init_model(name, f'videoalign://{name}', cfg_options=OPTIONS)
        assert_same_weights(model, tiny_state)
        assert tuple(model.dataset_meta['classes']) == CLASSES
    assert not osp.exists(osp.join(hub_home, 'downloads'))


def test_local_weights_are_checked_and_left_alone(tmp_path, hub_home, use_metafile, tiny_state):
    published, sha = save(published_layout(tiny_state), str(tmp_path), 'pub', hash_in_name=True)
    plain, _ = save(published_layout(tiny_state), str(tmp_path), 'plain')
    use_metafile([
        {
            'Name': 'mine/wrong-sha',
            'Config': CONFIG,
            'Weights': published,
            'SHA256': '0' * 64
        },
        {
            'Name': 'mine/plain',
            'Config': CONFIG,
            'Weights': plain
        },
        {
            'Name': 'mine/missing',
            'Weights': str(tmp_path / 'nothing.pth')
        },
    ])
    with pytest.raises(ChecksumError, match='left where it is'):
        get_checkpoint('mine/wrong-sha')
    assert osp.isfile(published)
    assert get_checkpoint('mine/plain') == plain  # no hash given: recorded on first use ...
    torch.save(published_layout({'x': torch.ones(1)}), plain)
    with pytest.raises(ChecksumError, match='recorded on first use'):  # ... and checked on later ones
        get_checkpoint('mine/plain')
    assert get_checkpoint('mine/plain', force=True) == plain  # recorded anew on request
    with pytest.raises(HubError, match='does not exist'):
        get_checkpoint('mine/missing')
    renamed = published.replace(sha[:8], 'deadbeef')
    os.replace(published, renamed)
    use_metafile([{'Name': 'mine/renamed', 'Weights': renamed}])
    with pytest.raises(ChecksumError, match='the end of its name'):
        get_checkpoint('mine/renamed')


def test_names_of_your_own_only_in_your_metafiles(tmp_path, write_metafile):
    path = write_metafile(str(tmp_path / 'mine.yml'), [{'Name': 'mine/ft', 'Config': CONFIG, 'Weights': './ft.pth'}])
    with pytest.raises(MetafileError, match='named <config folder>/<config stem>'):
        load_metafile(path)  # the package's own metafiles name entries after their configs
    entry = load_metafile(path, strict_names=False)[1][0]
    assert entry.local_file == str(tmp_path / 'ft.pth') and entry.file_name == 'ft.pth'
    path = write_metafile(
        str(tmp_path / 'bad.yml'), [{
            'Name': 'mine/ft',
            'Weights': '~/ft.pth',
            'Download': 'google-drive',
            'File Name': 'ft.pth',
            'Instructions': 'x'
        }])
    with pytest.raises(MetafileError, match='is for a file on the web'):
        load_metafile(path)
