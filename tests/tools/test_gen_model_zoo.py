"""tools/analysis/gen_model_zoo.py: model_zoo.md and model-index.yml are generated from the metafiles, up to date."""
import glob
import importlib.util
import os
import os.path as osp
import re
import sys

import pytest

from videoalign.hub import load_metafile
from videoalign.testing import REPO_ROOT, run_tool

_spec = importlib.util.spec_from_file_location('gen_model_zoo',
                                               osp.join(REPO_ROOT, 'tools', 'analysis', 'gen_model_zoo.py'))
gen_model_zoo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_model_zoo)


def test_generated_files_are_up_to_date():
    proc = run_tool(['python', 'tools/analysis/gen_model_zoo.py', '--check'], check=False)
    assert proc.returncode == 0, f'stale generated files:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}'


def test_model_zoo_lists_every_entry_of_every_metafile():
    text = open(osp.join(REPO_ROOT, 'model_zoo.md'), encoding='utf-8').read()
    listed = re.findall(r'^\| `([^`]+)` \|', text, flags=re.M)
    names = [m.name for p in gen_model_zoo.find_metafiles(REPO_ROOT) for m in load_metafile(osp.join(REPO_ROOT, p))[1]]
    assert listed == names and len(names) == len(set(names))
    imports = open(osp.join(REPO_ROOT, 'model-index.yml'), encoding='utf-8').read()
    metafiles = glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'metafile.yml'))
    assert all(f'  - {osp.relpath(p, REPO_ROOT)}\n' in imports for p in metafiles)


def test_check_fails_with_a_diff_when_stale(tmp_path, monkeypatch, capsys):
    os.makedirs(tmp_path / 'configs' / 'mine')
    (tmp_path / 'configs' / 'mine' / 'm.py').write_text('')
    (tmp_path / 'configs' / 'mine' / 'metafile.yml').write_text(
        'Collections:\n  - Name: Mine\nModels:\n  - Name: mine/m\n    In Collection: Mine\n'
        '    Config: configs/mine/m.py\n    Weights: https://example.org/m.pth\n    Converter: aim\n')
    monkeypatch.setattr(sys, 'argv', ['gen_model_zoo.py', '--root', str(tmp_path)])
    gen_model_zoo.main()
    assert '| `mine/m` | [m.py](configs/mine/m.py) |' in (tmp_path / 'model_zoo.md').read_text()
    monkeypatch.setattr(sys, 'argv', ['gen_model_zoo.py', '--root', str(tmp_path), '--check'])
    gen_model_zoo.main()  # up to date: no exit

    with open(tmp_path / 'model_zoo.md', 'a') as f:
        f.write('a hand edit\n')
    with pytest.raises(SystemExit, match='out of date'):
        gen_model_zoo.main()
    assert '-a hand edit' in capsys.readouterr().out

    (tmp_path / 'configs' / 'mine' / 'm.py').unlink()
    with pytest.raises(SystemExit, match='Config configs/mine/m.py does not exist'):
        gen_model_zoo.main()
