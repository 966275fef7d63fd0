"""tools/download.py: listing, names and patterns, files added by hand, and clear reports."""
import hashlib
import importlib.util
import os.path as osp
import sys

import pytest
import torch
import yaml

from videoalign.hub.cache import download_path
from videoalign.testing import REPO_ROOT
from videoalign.testing.checkpoints import make_openai_clip_archive

_spec = importlib.util.spec_from_file_location('download_tool', osp.join(REPO_ROOT, 'tools', 'download.py'))
download_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(download_tool)


def run(monkeypatch, capsys, *args):
    """Run the tool's main() in this process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, 'argv', ['download.py'] + list(args))
    code = 0
    try:
        download_tool.main()
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 1
        if not isinstance(err.code, int):
            print(err.code, file=sys.stderr)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def entries(tmp_path, monkeypatch):
    """A metafile with a Google Drive entry (converted), a published-as-is entry and one without weights."""
    archive = str(tmp_path / 'ViT-tiny.pt')
    make_openai_clip_archive(archive)
    sha = hashlib.sha256(open(archive, 'rb').read()).hexdigest()
    models = [
        {
            'Name': 'mine/clip-drive',
            'In Collection': 'Mine',
            'Weights': 'https://drive.google.com/file/d/abc',
            'Download': 'google-drive',
            'File Name': 'ViT-tiny.pt',
            'Instructions': 'Open it in a browser.',
            'SHA256': sha,
            'Converter': 'clip'
        },
        {
            'Name': 'mine/raw-drive',
            'In Collection': 'Mine',
            'Weights': 'https://drive.google.com/file/d/abc',
            'Download': 'google-drive',
            'File Name': 'ViT-tiny.pt',
            'Instructions': 'Open it in a browser.',
            'Converter': None,
            'Note': 'Conversion not yet implemented: kept as published.'
        },
        {
            'Name': 'mine/nothing',
            'In Collection': 'Mine',
            'Note': 'No official checkpoint.'
        },
    ]
    metafile = tmp_path / 'metafile.yml'
    metafile.write_text(yaml.safe_dump({'Collections': [{'Name': 'Mine'}], 'Models': models}, sort_keys=False))
    monkeypatch.setenv('VIDEOALIGN_METAFILES', str(metafile))
    monkeypatch.delenv('VIDEOALIGN_OFFLINE', raising=False)
    return archive, sha, str(tmp_path / 'cache')


def test_list_file_and_reports(entries, monkeypatch, capsys):
    archive, sha, cache = entries
    code, out, _ = run(monkeypatch, capsys, '--cache-dir', cache, '--list', 'mine/*')
    assert code == 0 and f'cache: {cache}' in out
    assert 'mine/clip-drive  Google Drive (by hand)' in out and 'mine/nothing' in out

    code, out, err = run(monkeypatch, capsys, '--cache-dir', cache, 'mine/clip-drive', 'mine/nothing')
    assert code == 1 and '2 of 2 entries are not in the cache' in err
    assert 'ManualDownloadError' in err and 'Open it in a browser.' in err and '--file' in err
    assert 'mine/nothing: no published weights. No official checkpoint.' in out

    code, out, err = run(monkeypatch, capsys, '--cache-dir', cache, '--file', archive, 'mine/*')
    assert code == 0, err
    converted = osp.join(cache, 'checkpoints', 'mine', f'clip-drive_{sha[:8]}.pth')
    assert f'mine/clip-drive: {converted} (converted with \'clip\')' in out
    monkeypatch.setenv('VIDEOALIGN_HOME', cache)
    published = download_path('mine', 'https://drive.google.com/file/d/abc', 'ViT-tiny.pt')
    assert published.startswith(osp.join(cache, 'downloads', 'mine', ''))
    assert f'mine/raw-drive: {published} (as published: Conversion not yet implemented: kept as published.)' in out
    assert 'visual.conv1.weight' in torch.load(converted, weights_only=True)['state_dict']

    code, out, _ = run(monkeypatch, capsys, '--cache-dir', cache, '--list', 'mine/*')
    assert converted in out and published in out

    code, _, err = run(monkeypatch, capsys, '--cache-dir', cache, 'mine/clip-drvie')
    assert code == 1 and 'did you mean mine/clip-drive' in err
