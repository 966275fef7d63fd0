"""Fixtures of the hub tests: an empty cache folder, a loopback HTTP server started by the test, extra metafiles,
and a tiny X-CLIP written in the official checkpoint layout."""
import hashlib
import http.server
import os.path as osp
import re
import threading
import time
from collections import OrderedDict
from typing import Dict, List, Optional

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.hub import download
from videoalign.hub.cache import ENV_HOME, ENV_OFFLINE
from videoalign.hub.index import ENV_METAFILES
from videoalign.models.converters.xclip import PREFIXES
from videoalign.registry import MODELS
from videoalign.testing import XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS
from videoalign.testing.checkpoints import RunsCode


class LoopbackFiles:
    """The files a :class:`LoopbackServer` serves, how it misbehaves for each, and the requests it saw.

    Modes: ``'ok'`` (ranges honoured), ``'drop_once'`` (the first response is cut after ``drop_after`` bytes, later
    ones are whole), ``'drop_always'`` (every response is cut), ``'no_range'`` (ranges ignored: always the whole file
    with status 200, the first response cut after ``drop_after`` bytes), ``'no_length'`` (like ``'no_range'``, but
    without ``Content-Length``, so a cut response looks complete), ``'slow'`` (waits ``delay`` seconds first).
    """

    def __init__(self) -> None:
        self.files: Dict[str, dict] = {}
        self.requests: List[tuple] = []  # (path, Range header or None)
        self.lock = threading.Lock()

    def add(self,
            path: str,
            data: bytes,
            mode: str = 'ok',
            drop_after: Optional[int] = None,
            delay: float = 0.) -> None:
        self.files[path] = dict(data=data, mode=mode, drop_after=drop_after, delay=delay, served=0)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


class _Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        files = self.server.files
        with files.lock:
            files.requests.append((self.path, self.headers.get('Range')))
            spec = files.files.get(self.path)
            if spec is not None:
                spec['served'] += 1
        if spec is None:
            self.send_error(404, 'not found')
            return
        time.sleep(spec['delay'])
        data, mode = spec['data'], spec['mode']
        start = 0
        match = re.match(r'bytes=(\d+)-$', self.headers.get('Range') or '')
        if match and mode not in ('no_range', 'no_length'):
            start = int(match.group(1))
            if start >= len(data):
                self.send_error(416, 'range not satisfiable')
                return
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
        else:
            self.send_response(200)
        body = data[start:]
        if mode != 'no_length':
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        cut = mode == 'drop_always' or (mode in ('drop_once', 'no_range', 'no_length') and spec['served'] == 1)
        if cut:
            self.wfile.write(body[:spec['drop_after']])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class LoopbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def loopback():
    """A server on 127.0.0.1 in a thread; ``loopback.url(path)`` gives the address of a served ``path``."""
    server = LoopbackServer(('127.0.0.1', 0), _Handler)
    server.files = LoopbackFiles()
    thread = threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    server.url = lambda path: f'http://127.0.0.1:{server.server_address[1]}{path}'
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch) -> None:
    """Retries follow each other at once."""
    monkeypatch.setattr(download, 'RETRY_WAIT_S', 0.)


@pytest.fixture
def hub_home(tmp_path, monkeypatch) -> str:
    """An empty cache folder as ``VIDEOALIGN_HOME``, online, no extra metafiles."""
    home = str(tmp_path / 'hub')
    monkeypatch.setenv(ENV_HOME, home)
    monkeypatch.delenv(ENV_OFFLINE, raising=False)
    monkeypatch.delenv(ENV_METAFILES, raising=False)
    return home


def _write_metafile(path: str, models: List[dict], collection: str = 'Loopback') -> str:
    """Write a metafile of ``models`` (each a ``Models`` entry, ``In Collection`` filled in) to ``path``."""
    data = dict(
        Collections=[dict(Name=collection)], Models=[dict({'In Collection': collection}, **model) for model in models])
    with open(path, 'w', encoding='utf-8') as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return path


@pytest.fixture
def write_metafile():
    """``write_metafile(path, models)`` writes a metafile of ``models`` with one collection."""
    return _write_metafile


@pytest.fixture
def use_metafile(tmp_path, monkeypatch):
    """``use_metafile(models)`` writes a metafile and adds it to the index through ``VIDEOALIGN_METAFILES``."""

    def use(models: List[dict], name: str = 'loopback_metafile.yml') -> str:
        path = _write_metafile(osp.join(str(tmp_path), name), models)
        monkeypatch.setenv(ENV_METAFILES, path)
        return path

    return use


def build_tiny_xclip(seed: int = 0) -> torch.nn.Module:
    """The quick-start X-CLIP shrunk by ``XCLIP_TINY_OPTIONS`` (random weights, eval mode)."""
    cfg = Config.fromfile(XCLIP_QUICKSTART_CONFIG)
    cfg.merge_from_dict({key: int(value) for key, value in (o.split('=') for o in XCLIP_TINY_OPTIONS)})
    cfg.model.cls_head.class_names = [f'class {i}' for i in range(10)]
    init_default_scope('videoalign')
    torch.manual_seed(seed)
    return MODELS.build(cfg.model).eval()


def to_official_xclip(state_dict: dict) -> OrderedDict:
    """videoalign's X-CLIP keys back to the official ones (the converter's table read right to left)."""
    inverse = sorted(((new, old) for old, new in PREFIXES), key=lambda p: -len(p[0]))
    out = OrderedDict()
    for key, value in state_dict.items():
        new, old = next((n, o) for n, o in inverse if key.startswith(n))
        out[old + key[len(new):]] = value.clone()
    return out


@pytest.fixture(scope='session')
def tiny_official(tmp_path_factory):
    """(model, path, bytes, sha256, marker) of a tiny X-CLIP written as an official training checkpoint
    (xclip.md §3.2) whose ``config`` is an object that would create ``marker`` if it were unpickled."""
    folder = tmp_path_factory.mktemp('official')
    model = build_tiny_xclip(seed=7)
    marker = str(folder / 'MARKER')
    path = str(folder / 'tiny_official.pth')
    torch.save(
        {
            'model': to_official_xclip(model.state_dict()),
            'optimizer': {},
            'epoch': 3,
            'max_accuracy': 0.5,
            'config': RunsCode(marker)
        }, path)
    with open(path, 'rb') as f:
        data = f.read()
    return model, path, data, hashlib.sha256(data).hexdigest(), marker


@pytest.fixture
def official_xclip_keys():
    """:func:`to_official_xclip`, for tests (a test module cannot import a conftest by name: there are several)."""
    return to_official_xclip


@pytest.fixture
def tiny_xclip():
    """``tiny_xclip(seed)`` builds the tiny X-CLIP of :func:`tiny_official` with other random weights."""
    return build_tiny_xclip


@pytest.fixture
def runs_code():
    """The class whose unpickling would run code."""
    return RunsCode


@pytest.fixture
def xclip_entry(loopback):
    """``xclip_entry(name=..., sha256=..., path=..., **keys)``: a metafile entry of a served official X-CLIP file."""

    def entry(name='loopback/xclip-tiny', sha256=None, path='/xclip/tiny_official.pth', **extra):
        model = {'Name': name, 'Weights': loopback.url(path), 'Converter': 'xclip'}
        if sha256:
            model['SHA256'] = sha256
        model.update(extra)
        return model

    return entry
