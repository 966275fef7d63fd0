"""atomic_write: complete files or none, with the permissions a plain open() would give."""
import os
import stat

import pytest

from videoalign.utils.fileio import atomic_write


def test_atomic_write_complete_file_with_umask_permissions(tmp_path):
    path = str(tmp_path / 'sub' / 'out.json')
    old = os.umask(0o022)
    try:
        with atomic_write(path, 'w') as f:
            f.write('{}')
    finally:
        os.umask(old)
    assert open(path).read() == '{}'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # not mkstemp's 0600
    assert os.listdir(tmp_path / 'sub') == ['out.json']


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    path = str(tmp_path / 'out.bin')
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b'half')
            raise RuntimeError('interrupted')
    assert os.listdir(tmp_path) == []
