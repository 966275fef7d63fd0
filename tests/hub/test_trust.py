"""Trust on first use: only a complete file of the right format is recorded; ``force`` records anew; cache keys.

Every file is served by the loopback server of ``conftest.py``.
"""
import hashlib
import importlib.util
import io
import json
import os
import os.path as osp
import sys

import pytest
import torch

from videoalign.apis import get_checkpoint, load_checkpoint
from videoalign.hub import ChecksumError
from videoalign.hub.cache import download_path
from videoalign.hub.errors import FormatError
from videoalign.hub.scheme import download_to_cache
from videoalign.hub.verify import HashStore
from videoalign.testing import REPO_ROOT

WEB_PAGE = b'\n  <!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n'


def files_under(folder: str) -> list:
    return sorted(osp.relpath(osp.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def torch_bytes(obj, legacy: bool = False) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def test_web_page_is_refused_then_the_genuine_file_is_recorded(hub_home, loopback, use_metafile, tiny_official,
                                                               xclip_entry, tmp_path):
    _, path, data, sha, _ = tiny_official
    url = loopback.url('/xclip/tiny_official.pth')
    loopback.files.add('/xclip/tiny_official.pth', WEB_PAGE)
    loopback.files.add('/bert/vocab.txt', b'<HTML><head><title>Quota exceeded</title></head></html>')
    use_metafile([
        xclip_entry(),
        {
            'Name': 'loopback/vocab',
            'Weights': loopback.url('/bert/vocab.txt'),
            'Converter': None
        },
        xclip_entry(name='loopback/xclip-official', sha256=sha),
    ])
    with pytest.raises(FormatError) as info:
        get_checkpoint('loopback/xclip-tiny', progress=False)
    message = str(info.value)
    assert 'loopback/xclip-tiny' in message and url in message and 'sent a web page instead of the file' in message
    assert download_path('loopback', url, 'tiny_official.pth') in message and 'No hash was recorded' in message
    with pytest.raises(FormatError, match='sent a web page instead of the file'):
        get_checkpoint('loopback/vocab', progress=False)
    assert HashStore().get('downloads', url) is None and files_under(osp.join(hub_home, 'downloads')) == []

    # with an official hash the hash decides; the format explains the mismatch
    with pytest.raises(ChecksumError, match='sent a web page instead of the file') as info:
        get_checkpoint('loopback/xclip-official', progress=False)
    assert sha in str(info.value)

    # a page saved by the browser and added by hand is refused too; the user's file stays
    saved = str(tmp_path / 'k400_16_8.pth')
    with open(saved, 'wb') as f:
        f.write(WEB_PAGE)
    with pytest.raises(FormatError, match='web page'):
        get_checkpoint('loopback/xclip-tiny', file=saved, progress=False)
    assert osp.isfile(saved) and HashStore().get('downloads', url) is None

    # the server now sends the file: it is accepted and its hash recorded
    loopback.files.add('/xclip/tiny_official.pth', data)
    converted = get_checkpoint('loopback/xclip-tiny', progress=False)
    assert HashStore().get('downloads', url)['sha256'] == sha
    assert load_checkpoint('loopback/xclip-tiny')['meta']['source_sha256'] == sha and osp.isfile(converted)


@pytest.mark.parametrize('kind', ['zip', 'legacy', 'json'])
def test_transfer_cut_without_content_length_is_refused(hub_home, loopback, use_metafile, kind):
    weights = {f'layer{i}.weight': torch.full((64, ), float(i)) for i in range(8)}
    config = json.dumps({f'key_{i}': i for i in range(200)}).encode()
    data, name = {
        'zip': (torch_bytes(weights), 'model.pth'),
        'legacy': (torch_bytes(weights, legacy=True), 'model.pth'),
        'json': (config, 'config.json'),
    }[kind]
    url = loopback.url(f'/{kind}/{name}')
    loopback.files.add(f'/{kind}/{name}', data, mode='no_length', drop_after=len(data) // 2)
    use_metafile([{'Name': 'loopback/cut', 'Weights': url, 'Converter': None}])

    with pytest.raises(FormatError) as info:
        get_checkpoint('loopback/cut', progress=False)
    message = str(info.value)
    assert url in message and 'loopback/cut' in message and 'cut' in message
    assert HashStore().get('downloads', url) is None and files_under(osp.join(hub_home, 'downloads')) == []

    path = get_checkpoint('loopback/cut', progress=False)  # the server now sends the whole file
    assert open(path, 'rb').read() == data
    assert HashStore().get('downloads', url)['sha256'] == hashlib.sha256(data).hexdigest()
    assert loopback.files.count(f'/{kind}/{name}') == 2


def test_recorded_hash_mismatch_says_when_where_and_how_to_reset(hub_home, loopback, use_metafile, tiny_official,
                                                                 xclip_entry):
    _, _, data, sha, _ = tiny_official
    url = loopback.url('/xclip/tiny_official.pth')
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry()])
    converted = get_checkpoint('loopback/xclip-tiny', progress=False)
    record = HashStore().get('downloads', url)

    os.remove(converted)
    os.remove(download_path('loopback', url, 'tiny_official.pth'))
    loopback.files.add('/xclip/tiny_official.pth', torch_bytes({'model': {'w': torch.ones(3)}}))
    with pytest.raises(ChecksumError) as info:
        get_checkpoint('loopback/xclip-tiny', progress=False)
    message = str(info.value)
    assert sha in message and f"recorded on first download ({record['recorded']})" in message
    assert osp.join(hub_home, 'sha256.json') in message
    assert 'python tools/download.py --force loopback/xclip-tiny' in message
    assert HashStore().get('downloads', url) == record  # the record is kept
    assert files_under(osp.join(hub_home, 'downloads')) == []


def test_force_downloads_again_records_anew_and_converts_again(hub_home, loopback, use_metafile, tiny_official,
                                                               xclip_entry, tiny_xclip, official_xclip_keys):
    _, _, data, sha, _ = tiny_official
    url = loopback.url('/xclip/tiny_official.pth')
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry()])
    first = get_checkpoint('loopback/xclip-tiny', progress=False)

    # the authors publish a new version: the cache keeps serving the recorded one until asked
    new = tiny_xclip(seed=11)
    new_data = torch_bytes({'model': official_xclip_keys(new.state_dict()), 'epoch': 4})
    new_sha = hashlib.sha256(new_data).hexdigest()
    loopback.files.add('/xclip/tiny_official.pth', new_data)
    assert get_checkpoint('loopback/xclip-tiny', progress=False) == first
    assert loopback.files.count('/xclip/tiny_official.pth') == 1

    second = get_checkpoint('loopback/xclip-tiny', progress=False, force=True)
    assert loopback.files.count('/xclip/tiny_official.pth') == 2
    assert HashStore().get('downloads', url)['sha256'] == new_sha
    assert osp.basename(second) == f'xclip-tiny_{new_sha[:8]}.pth'
    state = load_checkpoint('loopback/xclip-tiny')['state_dict']
    assert torch.equal(state['neck.positional_embedding'], new.state_dict()['neck.positional_embedding'])


def test_force_through_the_tool_fetches_a_shared_file_once(hub_home, loopback, use_metafile, tiny_official, xclip_entry,
                                                           monkeypatch, capsys):
    _, _, data, sha, _ = tiny_official
    url = loopback.url('/xclip/tiny_official.pth')
    loopback.files.add('/xclip/tiny_official.pth', data)
    use_metafile([xclip_entry(name='loopback/xclip-a'), xclip_entry(name='loopback/xclip-b')])
    spec = importlib.util.spec_from_file_location('download_tool', osp.join(REPO_ROOT, 'tools', 'download.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(sys, 'argv', ['download.py', '--no-progress', 'loopback/xclip-*'])
    tool.main()
    HashStore().put('downloads', url, '0' * 64)  # a bad record, e.g. of a page an older version accepted
    converted = [osp.join(hub_home, 'checkpoints', 'loopback', f'xclip-{x}_{sha[:8]}.pth') for x in 'ab']
    before = [os.stat(p).st_mtime_ns for p in converted]

    monkeypatch.setattr(sys, 'argv', ['download.py', '--no-progress', '--force', 'loopback/xclip-*'])
    tool.main()
    out = capsys.readouterr().out
    assert all(p in out for p in converted)
    assert loopback.files.count('/xclip/tiny_official.pth') == 2  # once more, for both names
    assert HashStore().get('downloads', url)['sha256'] == sha
    assert all(os.stat(p).st_mtime_ns != t for p, t in zip(converted, before))  # both converted again


def test_two_addresses_with_one_file_name_get_two_files(hub_home, loopback, use_metafile):
    a, b = torch_bytes({'w': torch.zeros(2)}), torch_bytes({'w': torch.ones(2)})
    loopback.files.add('/a/model.pth', a)
    loopback.files.add('/b/model.pth', b)
    loopback.files.add('/a/vocab.txt', b'[PAD]\n')
    use_metafile([
        {
            'Name': 'loopback/a',
            'Weights': loopback.url('/a/model.pth'),
            'Converter': None
        },
        {
            'Name': 'loopback/b',
            'Weights': loopback.url('/b/model.pth'),
            'Converter': None
        },
        {
            'Name': 'loopback/a-vocab',
            'Weights': loopback.url('/a/vocab.txt'),
            'Converter': None
        },
    ])
    path_a, path_b = get_checkpoint('loopback/a', progress=False), get_checkpoint('loopback/b', progress=False)
    assert path_a != path_b and open(path_a, 'rb').read() == a and open(path_b, 'rb').read() == b
    # files published side by side share a folder (e.g. a Hugging Face model folder)
    assert osp.dirname(get_checkpoint('loopback/a-vocab', progress=False)) == osp.dirname(path_a)


def test_download_to_cache_keys_by_address_and_refuses_web_pages(loopback, tmp_path):
    """http(s) checkpoints loaded through mmengine (``load_from = 'https://...'``) are kept apart by address."""
    a, b = torch_bytes({'w': torch.zeros(2)}), torch_bytes({'w': torch.ones(2)})
    loopback.files.add('/a/model.pth', a)
    loopback.files.add('/b/model.pth', b)
    cache = str(tmp_path / 'torch_hub')
    url_a, url_b = loopback.url('/a/model.pth'), loopback.url('/b/model.pth')
    got_a = download_to_cache(url_a, cache_dir=cache, progress=False)
    got_b = download_to_cache(url_b, cache_dir=cache, progress=False)
    assert got_a == osp.join(cache, hashlib.sha256(url_a.encode()).hexdigest()[:16], 'model.pth')
    assert got_a != got_b and open(got_a, 'rb').read() == a and open(got_b, 'rb').read() == b

    loopback.files.add('/c/model.pth', WEB_PAGE)
    with pytest.raises(FormatError, match='sent a web page instead of the file'):
        download_to_cache(loopback.url('/c/model.pth'), cache_dir=cache, progress=False)
    cached = [f for f in files_under(cache) if not f.endswith('.lock')]
    assert cached == sorted(osp.relpath(p, cache) for p in (got_a, got_b))  # the page was not kept
