"""Model-zoo files by name, served by a loopback server: download, verify, convert, cache, load, refuse."""
import hashlib
import os
import os.path as osp
import pickle

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from videoalign.apis import get_checkpoint, get_model_info, list_models, load_checkpoint
from videoalign.hub import ChecksumError, HubError, ManualDownloadError, OfflineError
from videoalign.hub.cache import ENV_OFFLINE, download_path, rank0_first
from videoalign.hub.verify import HashStore
from videoalign.models.converters import convert_xclip, load_official_checkpoint


def cache_files(home: str, folder: str) -> list:
    root = osp.join(home, folder)
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_download_verify_convert_cache_and_load(hub_home, loopback, use_metafile, tiny_official, xclip_entry,
                                                tiny_xclip):
    model, path, data, sha, marker = tiny_official
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry(sha256=sha, Alias=['xclip-tiny-alias'])])
    assert 'loopback/xclip-tiny' in list_models('loopback/*') and list_models('xclip-tiny-*') == ['loopback/xclip-tiny']

    converted_path = get_checkpoint('videoalign://loopback/xclip-tiny', progress=False)
    assert converted_path == osp.join(hub_home, 'checkpoints', 'loopback', f'xclip-tiny_{sha[:8]}.pth')
    published = download_path('loopback', loopback.url('/xclip/tiny_official.pth'), 'tiny_official.pth')
    assert cache_files(hub_home, 'downloads') == [osp.relpath(published, osp.join(hub_home, 'downloads'))]
    assert not osp.exists(marker), 'the pickled object ran code'

    checkpoint = load_checkpoint('xclip-tiny-alias')
    by_hand = convert_xclip(load_official_checkpoint(path))
    assert list(checkpoint['state_dict']) == list(by_hand)
    assert all(torch.equal(checkpoint['state_dict'][k], v) for k, v in by_hand.items())
    assert checkpoint['meta']['source_sha256'] == sha and checkpoint['meta']['converter'] == 'xclip'

    # loaded into a fresh model it gives the outputs of the model the file was written from
    target = tiny_xclip(seed=1)
    assert not any(target.load_state_dict(checkpoint['state_dict'], strict=True))
    inputs = torch.randn(2, 1, 3, 8, 56, 56)
    with torch.no_grad():
        assert torch.equal(target(inputs, mode='tensor', stage='head'), model(inputs, mode='tensor', stage='head'))

    # a second load (also through mmengine's CheckpointLoader) finds the cache and does not download
    requests = loopback.files.count('/xclip/tiny_official.pth')
    assert requests == 1
    again = _load_checkpoint('videoalign://loopback/xclip-tiny', map_location='cpu')
    assert torch.equal(again['state_dict']['neck.positional_embedding'], by_hand['neck.positional_embedding'])
    assert loopback.files.count('/xclip/tiny_official.pth') == requests
    assert not osp.exists(marker)


def test_wrong_official_hash_is_refused_and_leaves_nothing(hub_home, loopback, use_metafile, tiny_official,
                                                           xclip_entry):
    _, _, data, sha, _ = tiny_official
    loopback.files.add('/xclip/tiny_official.pth', data)
    wrong = hashlib.sha256(b'another file').hexdigest()
    use_metafile([xclip_entry(sha256=wrong)])
    with pytest.raises(ChecksumError) as info:
        get_checkpoint('loopback/xclip-tiny', progress=False)
    assert wrong in str(info.value) and sha in str(info.value)
    assert cache_files(hub_home, 'downloads') == [] and cache_files(hub_home, 'checkpoints') == []


def test_unknown_hash_is_recorded_then_checked(hub_home, loopback, use_metafile, tiny_official, xclip_entry):
    _, _, data, sha, _ = tiny_official
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry()])
    converted = get_checkpoint('loopback/xclip-tiny', progress=False)
    assert HashStore().get('downloads', loopback.url('/xclip/tiny_official.pth'))['sha256'] == sha
    assert osp.basename(converted) == f'xclip-tiny_{sha[:8]}.pth'

    # the published file changes on the server: a new download is checked against the recorded hash
    os.remove(converted)
    os.remove(download_path('loopback', loopback.url('/xclip/tiny_official.pth'), 'tiny_official.pth'))
    loopback.files.add('/xclip/tiny_official.pth', data[:-10] + b'0123456789')
    with pytest.raises(ChecksumError, match=sha):
        get_checkpoint('loopback/xclip-tiny', progress=False)
    assert cache_files(hub_home, 'downloads') == []


def test_tampered_converted_file_is_converted_again(hub_home, loopback, use_metafile, tiny_official, xclip_entry):
    _, path, data, sha, _ = tiny_official
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry(sha256=sha)])
    converted = get_checkpoint('loopback/xclip-tiny', progress=False)
    good = open(converted, 'rb').read()
    with open(converted, 'r+b') as f:
        f.seek(len(good) // 2)
        f.write(b'\0' * 16)
    assert get_checkpoint('loopback/xclip-tiny', progress=False) == converted
    assert open(converted, 'rb').read() == good
    assert loopback.files.count('/xclip/tiny_official.pth') == 1  # converted from the cached published file


def test_malicious_pickles_do_not_run(hub_home, loopback, use_metafile, tmp_path, xclip_entry, runs_code):
    marker = str(tmp_path / 'MARKER')
    evil = pickle.dumps(runs_code(marker), protocol=2)  # not a torch file: torch reads it with its legacy loader
    zipped = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'hook': runs_code(marker)}, zipped)
    loopback.files.add('/evil_legacy.pth', evil)
    loopback.files.add('/evil_zip.pth', open(zipped, 'rb').read())
    use_metafile([
        xclip_entry(name='loopback/evil-legacy', path='/evil_legacy.pth'),
        {
            'Name': 'loopback/evil-zip',
            'Weights': loopback.url('/evil_zip.pth'),
            'Converter': None
        },
    ])
    with pytest.raises(RuntimeError):
        get_checkpoint('loopback/evil-legacy', progress=False)  # read inertly, it is no torch file at all
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint('loopback/evil-zip')  # used as published: weights_only refuses the object
    assert not osp.exists(marker), 'a downloaded pickle ran code'
    assert cache_files(hub_home, 'checkpoints') == []


def test_offline_and_manual_errors_name_the_address_and_the_cache_path(hub_home, loopback, use_metafile, monkeypatch,
                                                                       tiny_official, tmp_path, xclip_entry):
    _, path, data, sha, _ = tiny_official
    use_metafile([
        xclip_entry(sha256=sha),
        xclip_entry(
            name='loopback/xclip-drive',
            sha256=sha,
            Download='google-drive',
            **{
                'File Name': 'tiny_drive.pth',
                'Instructions': 'Open it in a browser.'
            }),
    ])
    monkeypatch.setenv(ENV_OFFLINE, '1')
    with pytest.raises(OfflineError) as info:
        get_checkpoint('loopback/xclip-tiny', progress=False)
    message = str(info.value)
    assert loopback.url('/xclip/tiny_official.pth') in message
    assert download_path('loopback', loopback.url('/xclip/tiny_official.pth'), 'tiny_official.pth') in message
    assert 'tools/download.py --file' in message and loopback.files.requests == []

    with pytest.raises(ManualDownloadError) as info:
        get_checkpoint('loopback/xclip-drive', progress=False)
    message = str(info.value)
    assert 'Google Drive' in message and 'Open it in a browser.' in message
    assert download_path('loopback', loopback.url('/xclip/tiny_official.pth'), 'tiny_drive.pth') in message

    # the file downloaded by hand is verified, copied into the cache and converted, all offline
    converted = get_checkpoint('loopback/xclip-drive', file=path, progress=False)
    assert load_checkpoint('loopback/xclip-drive')['meta']['source_sha256'] == sha and osp.isfile(converted)
    wrong_file = str(tmp_path / 'wrong.pth')
    with open(wrong_file, 'wb') as f:
        f.write(b'not it')
    with pytest.raises(ChecksumError):
        get_checkpoint('loopback/xclip-drive', file=wrong_file, progress=False)
    assert osp.isfile(path)  # the user's own file is never deleted


def test_entries_without_weights_and_unknown_names(hub_home, use_metafile):
    use_metafile([{'Name': 'loopback/no-weights', 'Note': 'nothing published'}])
    with pytest.raises(HubError, match='no published weights: nothing published'):
        get_checkpoint('loopback/no-weights')
    with pytest.raises(KeyError, match='did you mean loopback/no-weights'):
        get_model_info('loopback/no-weight')


def test_concurrent_requests_download_once(hub_home, loopback, use_metafile, tiny_official, xclip_entry):
    from concurrent.futures import ThreadPoolExecutor
    _, _, data, sha, _ = tiny_official
    loopback.files.add('/xclip/tiny_official.pth', data, mode='slow', delay=0.3)
    use_metafile([xclip_entry(sha256=sha)])
    with ThreadPoolExecutor(3) as pool:
        paths = list(pool.map(lambda _: get_checkpoint('loopback/xclip-tiny', progress=False), range(3)))
    assert len(set(paths)) == 1 and osp.isfile(paths[0])
    assert loopback.files.count('/xclip/tiny_official.pth') == 1


def test_rank0_works_first_and_errors_do_not_hang_the_barrier(monkeypatch):
    from videoalign.hub import cache as api
    events = []
    monkeypatch.setattr(api, 'barrier', lambda: events.append('barrier'))
    for rank in (0, 1):
        events.clear()
        monkeypatch.setattr(api, 'get_dist_info', lambda r=rank: (r, 2))
        assert rank0_first(lambda: events.append('work') or 'done') == 'done'
        assert events == (['work', 'barrier'] if rank == 0 else ['barrier', 'work'])
    events.clear()
    monkeypatch.setattr(api, 'get_dist_info', lambda: (0, 2))

    def fail():
        events.append('work')
        raise RuntimeError('no network')

    with pytest.raises(RuntimeError, match='no network'):
        rank0_first(fail)
    assert events == ['work', 'barrier']


def test_converter_options_reach_the_converter(hub_home, loopback, use_metafile, tmp_path):
    official = {
        'state_dict': {
            'clipmodel.visual.conv1.weight': torch.ones(2, 3),
            'clipmodel.logit_scale': torch.ones(()),
            'embedding.weight': torch.zeros(4, 2)
        },
        'iteration': 1100
    }
    torch.save(official, str(tmp_path / 'HMDB_best.pth.tar'))
    loopback.files.add('/ep/HMDB_best.pth.tar', open(tmp_path / 'HMDB_best.pth.tar', 'rb').read())
    entry = {'Weights': loopback.url('/ep/HMDB_best.pth.tar'), 'Converter': 'efficient_prompt'}
    use_metafile([
        dict(entry, Name='loopback/ep-video'),
        dict(entry, Name='loopback/ep-features', **{'Converter Options': {
            'drop_visual': True
        }}),
        dict(entry, Name='loopback/ep-typo', **{'Converter Options': {
            'drop_visul': True
        }}),
    ])
    assert list(load_checkpoint('loopback/ep-video')['state_dict']) == [
        'backbone.conv1.weight', 'cls_head.prompt.embedding.weight'
    ]
    assert list(load_checkpoint('loopback/ep-features')['state_dict']) == ['cls_head.prompt.embedding.weight']
    with pytest.raises(
            HubError, match="Converter options {'drop_visul': True} do not fit the 'efficient_prompt' converter"):
        get_checkpoint('loopback/ep-typo', progress=False)
    assert loopback.files.count('/ep/HMDB_best.pth.tar') == 1  # one published file for the three entries


def test_zoo_files_through_mmengine_fileio_and_the_tokenizer(hub_home, loopback, use_metafile):
    """A model-zoo text file by name: mmengine.fileio reads it, ALPROTokenizer takes it as its vocabulary."""
    from mmengine.fileio import get_local_path, get_text

    from videoalign.models.text import ALPROTokenizer
    from videoalign.testing import vocab_lines
    vocab = '\n'.join(vocab_lines(['a red circle'])) + '\n'
    loopback.files.add('/bert/vocab.txt', vocab.encode())
    use_metafile([dict(Name='loopback/vocab', Weights=loopback.url('/bert/vocab.txt'))])
    with get_local_path('videoalign://loopback/vocab') as path:
        assert open(path).read() == vocab and path.startswith(hub_home)
    assert get_text('videoalign://loopback/vocab') == vocab
    tokenizer = ALPROTokenizer('videoalign://loopback/vocab', max_length=6)
    # a, red, circle: the words sorted after the special tokens
    assert tokenizer('A red circle')['input_ids'].tolist() == [[101, 104, 106, 105, 102, 0]]
    assert loopback.files.count('/bert/vocab.txt') == 1
