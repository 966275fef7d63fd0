"""tools/video_search.py: index a folder of tiny synthetic videos with a tiny ALPRO, resume, and query it."""
import importlib.util
import json
import os
import os.path as osp
import re
import shutil

import pytest
import torch

from videoalign.apis import init_model
from videoalign.datasets.synthetic import make_clip, write_video
from videoalign.models.algorithms import AlproRetrieval
from videoalign.testing import REPO_ROOT, run_tool
from videoalign.testing.alpro import write_tiny_alpro_config, write_vocab

TOOL = 'tools/video_search.py'
QUERIES = ['a red circle moves to the left', 'a square grows larger', 'an arrow turns clockwise']
VIDEOS = [('a.mp4', 0), ('b.mp4', 4), ('c.mp4', 6), ('more/d.mp4', 1), ('more/e.avi', 9)]

_spec = importlib.util.spec_from_file_location('video_search', osp.join(REPO_ROOT, TOOL))
video_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(video_search)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A tiny ALPRO config and checkpoint (random weights), a second checkpoint, and a folder of 8-frame clips with
    one file that is not a video."""
    root = tmp_path_factory.mktemp('video_search')
    vocab = str(root / 'vocab.txt')
    config = write_tiny_alpro_config(str(root / 'alpro_tiny.py'), vocab, write_vocab(vocab, QUERIES))
    checkpoints = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        checkpoints.append(str(root / f'alpro_tiny_{seed}.pth'))
        torch.save({'state_dict': init_model(config).state_dict(), 'meta': {}}, checkpoints[-1])
    videos = root / 'videos'
    for i, (rel, label) in enumerate(VIDEOS):
        (videos / rel).parent.mkdir(parents=True, exist_ok=True)
        write_video(str(videos / rel), make_clip(0, 'test', label, i, num_frames=8, size=32)[0])
    (videos / 'broken.mp4').write_bytes(b'not a video')
    return dict(root=root, config=config, checkpoint=checkpoints[0], other=checkpoints[1], videos=str(videos))


@pytest.fixture
def count_encoded(monkeypatch):
    """Counts the videos AlproRetrieval.encode_video encodes; ``interrupt_at`` makes that call raise
    KeyboardInterrupt (a Ctrl-C in the middle of the run)."""
    original = AlproRetrieval.encode_video
    state = dict(videos=0, calls=0, interrupt_at=0)

    def encode(self, inputs):
        state['calls'] += 1
        if state['calls'] == state['interrupt_at']:
            raise KeyboardInterrupt
        state['videos'] += inputs.shape[0]
        return original(self, inputs)

    monkeypatch.setattr(AlproRetrieval, 'encode_video', encode)
    return state


def index_args(setup, out: str, *extra: str, checkpoint: str = None, videos: str = None) -> list:
    return [
        'index', setup['config'], checkpoint or setup['checkpoint'], videos or setup['videos'], '--out', out,
        '--device', 'cpu', '--num-workers', '0'
    ] + list(extra)


def query_args(setup, index_dir: str, *extra: str, checkpoint: str = None) -> list:
    return ['query', setup['config'], checkpoint or setup['checkpoint'], index_dir] + list(extra) + ['--device', 'cpu']


def table_rows(text: str) -> list:
    """``(rank, score, video)`` of the rows of the printed tables."""
    return [(int(r), float(s), v)
            for r, s, v in re.findall(r'^\s+(\d+)\s+(-?[0-9.]+)\*?\s+(?:-?[0-9.]+\s+)?(\S+)$', text, re.M)]


def test_command_line_index_and_query(setup, tmp_path):
    out = str(tmp_path / 'index')
    args = index_args(setup, out)
    args[args.index('--num-workers') + 1] = '1'  # decoded in a worker process
    args.append('--amp')  # bf16 autocast on the CPU
    proc = run_tool(['python', TOOL] + args)
    assert 'encoding 6 into' in proc.stdout, proc.stdout
    assert re.search(r'1 unreadable videos skipped.*\n\s+broken\.mp4\s+\S', proc.stdout + proc.stderr)
    assert '5 videos indexed' in proc.stdout
    with open(osp.join(out, 'manifest.json')) as f:
        manifest = json.load(f)
    assert sorted(manifest['videos']) == sorted(rel for rel, _ in VIDEOS) and list(manifest['failed']) == ['broken.mp4']

    proc = run_tool(['python', TOOL] + query_args(setup, out, QUERIES[0], QUERIES[1], '--topk', '3'))
    assert proc.stdout.count('Query ') == 2 and f'Query 1/2: "{QUERIES[0]}"' in proc.stdout
    rows = table_rows(proc.stdout)
    assert [r[0] for r in rows] == [1, 2, 3, 1, 2, 3]
    for table in (rows[:3], rows[3:]):
        assert [r[1] for r in table] == sorted((r[1] for r in table), reverse=True)
        assert {r[2] for r in table} <= {rel for rel, _ in VIDEOS}


def test_query_table_json_and_rerank(setup, tmp_path, count_encoded, capsys):
    out = str(tmp_path / 'index')
    video_search.main(index_args(setup, out, '--save-tokens', '--batch-size', '4'))
    capsys.readouterr()
    results = video_search.main(query_args(setup, out, *QUERIES, '--topk', '4', '--json', str(tmp_path / 'r.json')))
    printed = capsys.readouterr().out
    assert [len(r) for r in results] == [4, 4, 4] and len(table_rows(printed)) == 12
    with open(tmp_path / 'r.json') as f:
        report = json.load(f)
    assert report['topk'] == 4 and report['rerank'] == 0 and report['video_dir'] == setup['videos']
    assert [r['query'] for r in report['results']] == QUERIES
    for entry, matches in zip(report['results'], results):
        assert [m['video'] for m in entry['matches']] == [m['video'] for m in matches]
        scores = [m['score'] for m in entry['matches']]
        assert scores == sorted(scores, reverse=True) and [m['rank'] for m in entry['matches']] == [1, 2, 3, 4]
        assert all(m['path'] == osp.join(setup['videos'], m['video']) for m in entry['matches'])

    reranked = video_search.main(query_args(setup, out, QUERIES[0], '--topk', '4', '--rerank', '2'))[0]
    printed = capsys.readouterr().out
    assert 'score = ITM logit + cosine similarity for the 2 re-ranked videos' in printed
    assert [m['reranked'] for m in reranked] == [True, True, False, False]
    assert {m['video'] for m in reranked[:2]} == {m['video'] for m in results[0][:2]}  # the same candidates
    assert [m['video'] for m in reranked[2:]] == [m['video'] for m in results[0][2:]]
    assert len(table_rows(printed)) == 4 and len(re.findall(r'^\s+\d+\s+-?[0-9.]+\* ', printed, re.M)) == 2


def test_resume_after_an_interruption_encodes_only_what_is_missing(setup, tmp_path, count_encoded):
    out, videos = str(tmp_path / 'index'), str(tmp_path / 'videos')
    shutil.copytree(setup['videos'], videos)
    count_encoded['interrupt_at'] = 4
    with pytest.raises(KeyboardInterrupt):
        video_search.main(index_args(setup, out, '--batch-size', '1', '--shard-size', '1', videos=videos))
    assert count_encoded['videos'] == 3
    with open(osp.join(out, 'manifest.json')) as f:
        assert len(json.load(f)['videos']) == 3  # one shard per video finished before the interruption

    count_encoded.update(videos=0, calls=0, interrupt_at=0)
    summary = video_search.main(index_args(setup, out, videos=videos))
    assert count_encoded['videos'] == 2 and summary['reused'] == 3 and summary['encoded'] == 2
    assert summary['videos'] == 5 and summary['skipped_failed'] == ['broken.mp4']  # failed before the interruption

    # a changed video is encoded again; the others and the unreadable one are not tried again
    count_encoded.update(videos=0, calls=0)
    write_video(osp.join(videos, 'c.mp4'), make_clip(3, 'test', 7, 0, num_frames=8, size=32)[0])
    summary = video_search.main(index_args(setup, out, videos=videos))
    assert count_encoded['videos'] == 1 and summary['encoded'] == 1 and summary['reused'] == 4
    assert summary['skipped_failed'] == ['broken.mp4']
    count_encoded.update(videos=0, calls=0)
    summary = video_search.main(index_args(setup, out, '--retry-failed', videos=videos))
    assert count_encoded['calls'] == 0 and list(summary['failed']) == ['broken.mp4']


def test_index_of_another_checkpoint_is_refused(setup, tmp_path, capsys):
    out = str(tmp_path / 'index')
    video_search.main(index_args(setup, out))
    with pytest.raises(SystemExit, match=r'(?s)built with the checkpoint .*alpro_tiny_0\.pth.*new --out.*--rebuild'):
        video_search.main(index_args(setup, out, checkpoint=setup['other']))
    with pytest.raises(SystemExit, match=r'(?s)built with the checkpoint .*alpro_tiny_0\.pth'):
        video_search.main(query_args(setup, out, QUERIES[0], checkpoint=setup['other']))
    summary = video_search.main(index_args(setup, out, '--rebuild', checkpoint=setup['other']))
    assert summary['encoded'] == 5
    assert len(video_search.main(query_args(setup, out, QUERIES[0], checkpoint=setup['other']))[0]) == 5


def test_query_errors(setup, tmp_path):
    out = str(tmp_path / 'index')
    video_search.main(index_args(setup, out))
    with pytest.raises(SystemExit, match=r'--rerank needs the video tokens.*--save-tokens'):
        video_search.main(query_args(setup, out, QUERIES[0], '--rerank', '3'))
    with pytest.raises(SystemExit, match=r'holds no index.*python tools/video_search.py index'):
        video_search.main(query_args(setup, str(tmp_path), QUERIES[0]))
    with pytest.raises(SystemExit, match='--topk must be >= 1'):
        video_search.main(query_args(setup, out, QUERIES[0], '--topk', '0'))
    with pytest.raises(SystemExit, match='is not a folder'):
        video_search.main(index_args(setup, out, videos=str(tmp_path / 'nowhere')))
    with pytest.raises(SystemExit):
        video_search.main(['index', setup['config'], setup['checkpoint'], setup['videos']])  # --out is required
    assert os.listdir(out)
