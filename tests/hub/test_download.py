"""videoalign.hub.download against a loopback server: resume, restart, refusal, verification."""
import hashlib
import os
import os.path as osp

import pytest

from videoalign.hub.download import download_file
from videoalign.hub.errors import ChecksumError, DownloadError

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


def files_under(folder):
    return sorted(osp.relpath(osp.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def test_dropped_transfer_resumes_with_range(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA, mode='drop_once', drop_after=100_000)
    dst = str(tmp_path / 'w.pth')
    assert download_file(loopback.url('/w.pth'), dst, SHA, progress=False) == SHA
    assert loopback.files.requests == [('/w.pth', None), ('/w.pth', 'bytes=100000-')]
    assert open(dst, 'rb').read() == DATA
    assert files_under(str(tmp_path)) == ['w.pth']


def test_server_without_ranges_restarts_from_zero(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA, mode='no_range', drop_after=100_000)
    dst = str(tmp_path / 'w.pth')
    assert download_file(loopback.url('/w.pth'), dst, SHA, progress=False) == SHA
    assert loopback.files.count('/w.pth') == 2
    assert open(dst, 'rb').read() == DATA


def test_always_dropping_server_leaves_only_a_partial_file_that_the_next_try_resumes(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA, mode='drop_always', drop_after=50_000)
    dst = str(tmp_path / 'w.pth')
    with pytest.raises(DownloadError) as info:
        download_file(loopback.url('/w.pth'), dst, SHA, progress=False, retries=2)
    message = str(info.value)
    assert loopback.url('/w.pth') in message and 'after 3 tries' in message and dst + '.part' in message
    assert not osp.exists(dst)  # never a file that looks complete
    assert files_under(str(tmp_path)) == ['w.pth.part']
    assert osp.getsize(dst + '.part') == 150_000  # each try appended what it got
    loopback.files.add('/w.pth', DATA, mode='ok')
    assert download_file(loopback.url('/w.pth'), dst, SHA, progress=False) == SHA
    assert loopback.files.requests[-1] == ('/w.pth', 'bytes=150000-')
    assert open(dst, 'rb').read() == DATA and files_under(str(tmp_path)) == ['w.pth']


def test_a_stale_partial_file_is_restarted_once_when_the_hash_fails(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA)
    dst = str(tmp_path / 'w.pth')
    with open(dst + '.part', 'wb') as f:
        f.write(b'x' * 1000)  # left by a download of another version
    assert download_file(loopback.url('/w.pth'), dst, SHA, progress=False) == SHA
    assert loopback.files.requests == [('/w.pth', 'bytes=1000-'), ('/w.pth', None)]
    assert open(dst, 'rb').read() == DATA


def test_wrong_hash_is_refused_and_leaves_nothing(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA)
    dst = str(tmp_path / 'w.pth')
    wrong = '0' * 64
    with pytest.raises(ChecksumError) as info:
        download_file(loopback.url('/w.pth'), dst, wrong, progress=False)
    assert wrong in str(info.value) and SHA in str(info.value)
    assert (info.value.expected, info.value.actual) == (wrong, SHA)
    assert files_under(str(tmp_path)) == []


def test_refusal_is_not_retried(loopback, tmp_path):
    with pytest.raises(DownloadError, match='HTTP 404'):
        download_file(loopback.url('/missing.pth'), str(tmp_path / 'm.pth'), progress=False)
    assert loopback.files.count('/missing.pth') == 1
    assert files_under(str(tmp_path)) == []


def test_without_expected_hash_the_hash_is_returned(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA)
    assert download_file(loopback.url('/w.pth'), str(tmp_path / 'sub' / 'w.pth'), progress=False) == SHA


def test_a_partial_file_as_long_as_the_file_is_downloaded_again(loopback, tmp_path):
    loopback.files.add('/w.pth', DATA)
    dst = str(tmp_path / 'w.pth')
    with open(dst + '.part', 'wb') as f:
        f.write(DATA)  # complete, but never verified and renamed (the process ended first)
    assert download_file(loopback.url('/w.pth'), dst, SHA, progress=False) == SHA
    assert loopback.files.requests == [('/w.pth', 'bytes=300000-'), ('/w.pth', None)]  # 416, then the whole file
    assert files_under(str(tmp_path)) == ['w.pth']
