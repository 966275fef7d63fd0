"""Packaging: a wheel carries ``videoalign/.mim`` (configs, tools, model-index.yml), the installed package's hub and
``mim`` find them from any directory, and configs with ``mmaction::`` bases load (pkg_resources).

The wheel is built (``pip wheel --no-deps --no-build-isolation``) from a copy of the source files, so the checkout
gets no ``build/``; it is unpacked into a folder that goes first on ``PYTHONPATH`` (what ``pip install`` of the wheel
puts in site-packages), and checked in subprocesses that run in another folder.
"""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from mmengine.config import Config

from videoalign.hub import get_model_info, list_models
from videoalign.hub.index import ENV_METAFILES, read_model_index
from videoalign.testing import REPO_ROOT

SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'requirements', 'videoalign', 'configs', 'tools', 'model-index.yml')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> str:
    """The wheel of the source tree as it is now."""
    src, out = tmp_path_factory.mktemp('src'), tmp_path_factory.mktemp('wheel')
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim')
    for name in SOURCES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy(path, src / name)
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--disable-pip-version-check', '-q',
        '-w',
        str(out),
        str(src)
    ],
                   check=True,
                   capture_output=True,
                   timeout=300)
    return glob.glob(str(out / '*.whl'))[0]


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory) -> tuple:
    """(site folder, environment, working folder): the wheel unpacked, importable from a folder outside the tree."""
    site, cwd = tmp_path_factory.mktemp('site'), tmp_path_factory.mktemp('elsewhere')
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop(ENV_METAFILES, None)
    return str(site), env, str(cwd)


def test_wheel_carries_mim_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        index = archive.read('videoalign/.mim/model-index.yml').decode()
    for name in ('configs/quickstart/r3d-tiny-8f_synthetic.py', 'configs/_base_/default_runtime.py', 'tools/train.py',
                 'tools/test.py', 'tools/analysis/print_config.py', 'model-index.yml'):
        assert f'videoalign/.mim/{name}' in names, name
    with open(osp.join(REPO_ROOT, 'model-index.yml'), encoding='utf-8') as f:
        assert index == f.read()
    for metafile in read_model_index():
        assert f'videoalign/.mim/{osp.relpath(metafile, REPO_ROOT)}' in names
    assert not any(n.startswith(('tests/', 'configs/', 'tools/')) or '__pycache__' in n for n in names)


def test_installed_hub_reads_its_mim_folder(installed):
    site, env, cwd = installed
    code = ('import json, videoalign; from videoalign.hub import list_models, get_config_path; '
            'from videoalign.hub.index import INDEX_ROOT, metafile_paths; '
            'print(json.dumps(dict(package=videoalign.__file__, root=INDEX_ROOT, models=list_models(), '
            'config=get_config_path("quickstart/r3d-tiny-8f_synthetic"), metafiles=metafile_paths())))')
    done = subprocess.run([sys.executable, '-c', code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    mim = osp.join(site, 'videoalign', '.mim')
    assert found['package'].startswith(site) and found['root'] == mim
    assert found['models'] == list_models()
    assert found['config'] == osp.join(mim, 'configs', 'quickstart', 'r3d-tiny-8f_synthetic.py')
    assert found['metafiles'] and all(p.startswith(mim) for p in found['metafiles'])


def test_mim_search_lists_the_collections(installed):
    _, env, cwd = installed
    done = subprocess.run([sys.executable, '-m', 'mim', 'search', 'videoalign', '--field', 'model'],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count('config id: ') == len(list_models())
    shown = {line.split(None, 1)[1].strip() for line in done.stdout.splitlines() if line.startswith('model ')}
    assert shown == {get_model_info(name).collection.lower() for name in list_models()}


def test_config_with_mmaction_base_loads(tmp_path):
    path = tmp_path / 'tsn.py'
    path.write_text("_base_ = ['mmaction::_base_/models/tsn_r50.py']\nmodel = dict(cls_head=dict(num_classes=7))\n")
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'Recognizer2D' and cfg.model.cls_head.num_classes == 7
