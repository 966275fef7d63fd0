"""videoalign.apis.retrieval, video_index and indexing: encode videos and texts, search, and the resumable on-disk
index, with a tiny ALPRO."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch
import torch.nn as nn

from videoalign.apis import (IndexMismatchError, VideoIndex, check_index, encode_text, encode_video, index_videos,
                             init_model, rank_videos, search_videos)
from videoalign.apis.retrieval import IndexBusyError, UnreadableVideoError
from videoalign.apis.video_index import MANIFEST, SHARD_DIR
from videoalign.datasets.synthetic import make_clip, write_video
from videoalign.testing.alpro import TINY_ALPRO_TEST_PIPELINE, write_tiny_alpro_config, write_vocab

QUERIES = ['a red circle moves to the left', 'a square grows larger', 'an arrow turns clockwise', 'something else']
# (relative path, class of the synthetic clip)
VIDEOS = [('a.mp4', 0), ('b.mp4', 4), ('sub/c.mp4', 6), ('sub/d.avi', 1), ('e.MP4', 9)]


def write_videos(folder: str, videos=VIDEOS, seed: int = 0) -> None:
    """8-frame 32 px synthetic clips."""
    for i, (rel, label) in enumerate(videos):
        os.makedirs(osp.dirname(osp.join(folder, rel)), exist_ok=True)
        write_video(osp.join(folder, rel), make_clip(seed, 'test', label, i, num_frames=8, size=32)[0])


def save_checkpoint(config: str, path: str, seed: int) -> str:
    torch.manual_seed(seed)
    model = init_model(config)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('retrieval')
    vocab = str(root / 'vocab.txt')
    vocab_size = write_vocab(vocab, QUERIES)
    config = write_tiny_alpro_config(str(root / 'alpro_tiny.py'), vocab, vocab_size)
    videos = str(root / 'videos')
    write_videos(videos)
    checkpoint = save_checkpoint(config, str(root / 'alpro_tiny.pth'), seed=0)
    model = init_model(config, checkpoint)
    return dict(
        root=root, vocab=vocab, vocab_size=vocab_size, config=config, checkpoint=checkpoint, videos=videos, model=model)


def video_paths(setup) -> list:
    return [osp.join(setup['videos'], rel) for rel, _ in VIDEOS]


class CountCalls:
    """Counts the videos that ``model.encode_video`` encodes (and can raise KeyboardInterrupt at a given call)."""

    def __init__(self, model: nn.Module, interrupt_at: int = 0) -> None:
        self.model, self.original = model, model.encode_video
        self.videos, self.calls, self.interrupt_at = 0, 0, interrupt_at

    def __call__(self, inputs: torch.Tensor) -> dict:
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        self.videos += inputs.shape[0]
        return self.original(inputs)

    def __enter__(self) -> 'CountCalls':
        self.model.encode_video = self
        return self

    def __exit__(self, *exc) -> None:
        del self.model.encode_video


def manifest_of(index_dir) -> dict:
    with open(osp.join(index_dir, MANIFEST)) as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------------- encoding
def test_encode_video_and_text(setup):
    model, paths = setup['model'], video_paths(setup)
    feats, tokens = encode_video(model, paths, batch_size=2, return_tokens=True)
    assert feats.shape == (5, 16) and tokens.shape == (5, 17, 32)  # [CLS] + 4 x 4 patches of width 32
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(encode_video(model, paths, batch_size=5), feats, rtol=1e-4, atol=1e-5)
    single = encode_video(model, paths[2])
    assert single.shape == (1, 16)
    torch.testing.assert_close(single[0], feats[2], rtol=1e-4, atol=1e-5)
    with_amp = encode_video(model, paths, batch_size=5, amp=True)  # bf16 autocast on the CPU, float32 out
    assert with_amp.dtype == torch.float32 and not torch.equal(with_amp, feats)
    assert (with_amp * feats).sum(dim=1).min() > 0.99  # cosine to the fp32 features
    # what the model gives for the data preprocessor's output of the config's pipeline
    from mmengine.dataset import Compose, pseudo_collate
    sample = Compose(TINY_ALPRO_TEST_PIPELINE)(dict(filename=paths[2], label=-1, start_index=0, modality='RGB'))
    with torch.no_grad():
        expected = model.encode_video(model.data_preprocessor(pseudo_collate([sample]), False)['inputs'])
    torch.testing.assert_close(single, expected['video_feat'], rtol=1e-4, atol=1e-5)

    text = encode_text(model, QUERIES)
    assert text.shape == (4, 16)
    torch.testing.assert_close(text.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(encode_text(model, QUERIES[1]), text[1:2], rtol=1e-4, atol=1e-5)


def test_errors_name_the_model_and_the_video(setup, tmp_path):
    with pytest.raises(TypeError, match=r'Linear has no encode_video.*AlproRetrieval'):
        encode_video(nn.Linear(2, 2), video_paths(setup))
    with pytest.raises(TypeError, match=r'Linear has no encode_text.*AlproRetrieval'):
        search_videos(nn.Linear(2, 2), 'a query', VideoIndex(['x.mp4'], torch.zeros(1, 16)))
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        encode_video(setup['model'], str(tmp_path / 'nope.mp4'))
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    with pytest.raises(UnreadableVideoError, match='broken.mp4'):
        encode_video(setup['model'], [video_paths(setup)[0], str(broken)])


# ---------------------------------------------------------------------------------------------------- search
def test_search_ranks_by_cosine_similarity(setup):
    model, paths = setup['model'], video_paths(setup)
    index = VideoIndex.from_videos(model, paths)
    sims = encode_text(model, QUERIES) @ index.feats.t()
    results = search_videos(model, QUERIES[0], index, topk=3)
    assert len(results) == 3
    order = sims[0].argsort(descending=True)[:3].tolist()
    assert [p for p, _ in results] == [paths[i] for i in order]
    assert [s for _, s in results] == pytest.approx(sims[0, order].tolist(), abs=1e-5)
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)
    several = search_videos(model, QUERIES, index, topk=10)  # topk capped at the size of the index
    assert len(several) == 4 and all(len(r) == 5 for r in several)
    assert [p for p, _ in several[0][:3]] == [p for p, _ in results]


def test_rerank_scores_itm_plus_similarity(setup):
    model, paths = setup['model'], video_paths(setup)
    index = VideoIndex.from_videos(model, paths, with_tokens=True)
    with pytest.raises(ValueError, match='with_tokens=True'):
        search_videos(model, QUERIES[0], VideoIndex.from_videos(model, paths), rerank=2)
    sims = (encode_text(model, QUERIES[1:2]) @ index.feats.t())[0]
    ranked = rank_videos(model, QUERIES[1], index, topk=5, rerank=3)[0]
    candidates = sims.topk(3).indices
    with torch.no_grad():
        text = model.encode_text([QUERIES[1]])
        itm = model.itm_logits(text['text_states'].expand(3, -1, -1), text['text_mask'].expand(3, -1),
                               index.tokens[candidates])[:, 1]
    expected = itm + sims[candidates]
    order = expected.argsort(descending=True)
    assert [m['reranked'] for m in ranked] == [True] * 3 + [False] * 2
    assert [m['path'] for m in ranked[:3]] == [paths[i] for i in candidates[order].tolist()]
    assert [m['score'] for m in ranked[:3]] == pytest.approx(expected[order].tolist(), abs=1e-4)
    assert [m['similarity'] for m in ranked[:3]] == pytest.approx(sims[candidates[order]].tolist(), abs=1e-5)
    rest = [i for i in sims.argsort(descending=True).tolist() if i not in candidates.tolist()]
    assert [m['path'] for m in ranked[3:]] == [paths[i] for i in rest]
    assert [m['score'] for m in ranked[3:]] == pytest.approx(sims[rest].tolist(), abs=1e-5)
    # the same from an index folder (float32 tokens, memory-mapped shards)
    index_dir = str(setup['root'] / 'rerank_index')
    index_videos(
        model,
        setup['videos'],
        index_dir,
        setup['checkpoint'],
        save_tokens=True,
        tokens_dtype='float32',
        show_progress=False)
    from_disk = rank_videos(model, QUERIES[1], index_dir, topk=5, rerank=3)[0]
    assert [m['path'] for m in from_disk] == [m['path'] for m in ranked]
    assert [m['score'] for m in from_disk] == pytest.approx([m['score'] for m in ranked], abs=1e-4)


# ---------------------------------------------------------------------------------------------------- index folders
def test_index_resume_change_corrupt_and_removal(setup, tmp_path):
    model = setup['model']
    videos = str(tmp_path / 'videos')
    shutil.copytree(setup['videos'], videos)
    (tmp_path / 'videos' / 'broken.mp4').write_bytes(b'not a video')
    (tmp_path / 'videos' / 'notes.txt').write_text('not indexed')
    out = str(tmp_path / 'index')

    # an interrupted first run: the shards finished before the interruption are kept
    with CountCalls(model, interrupt_at=3) as counter, pytest.raises(KeyboardInterrupt):
        index_videos(model, videos, out, setup['checkpoint'], batch_size=1, shard_size=1, show_progress=False)
    manifest = manifest_of(out)  # a.mp4, b.mp4 encoded, broken.mp4 failed, e.MP4 interrupted
    assert sorted(manifest['videos']) == ['a.mp4', 'b.mp4'] and counter.videos == 2
    assert list(manifest['failed']) == ['broken.mp4'] and manifest['failed']['broken.mp4']['error']
    assert not os.path.exists(osp.join(out, '.lock'))

    with CountCalls(model) as counter:
        summary = index_videos(model, videos, out, setup['checkpoint'], batch_size=2, show_progress=False)
    assert counter.videos == 3  # only the missing ones
    assert summary['encoded'] == 3 and summary['reused'] == 2 and summary['videos'] == 5
    assert summary['skipped_failed'] == ['broken.mp4'] and not summary['failed']
    manifest = manifest_of(out)
    assert sorted(manifest['videos']) == sorted(rel for rel, _ in VIDEOS)
    assert list(manifest['failed']) == ['broken.mp4']
    assert manifest['embed_dim'] == 16 and manifest['model']['type'] == 'AlproRetrieval'
    assert manifest['model']['sha256'] and manifest['model']['checkpoint'] == osp.abspath(setup['checkpoint'])

    # the features on disk are those of encode_video, in the order of the relative paths
    index = VideoIndex.load(out)
    assert index.paths == sorted(rel for rel, _ in VIDEOS) and index.tokens is None
    torch.testing.assert_close(
        index.feats, encode_video(model, [osp.join(videos, p) for p in index.paths]), rtol=1e-4, atol=1e-5)

    # nothing to do; the corrupt video is not tried again
    with CountCalls(model) as counter:
        summary = index_videos(model, videos, out, setup['checkpoint'], show_progress=False)
    assert counter.calls == 0 and summary['skipped_failed'] == ['broken.mp4'] and summary['encoded'] == 0

    # a changed video is encoded again, a removed one leaves the index, a repaired one is indexed
    write_video(osp.join(videos, 'b.mp4'), make_clip(1, 'test', 5, 0, num_frames=8, size=32)[0])
    os.remove(osp.join(videos, 'sub', 'd.avi'))
    shutil.copy(osp.join(videos, 'a.mp4'), osp.join(videos, 'broken.mp4'))
    with CountCalls(model) as counter:
        summary = index_videos(model, videos, out, setup['checkpoint'], show_progress=False)
    assert counter.videos == 2 and summary['removed'] == ['sub/d.avi'] and not summary['failed']
    manifest = manifest_of(out)
    assert sorted(manifest['videos']) == ['a.mp4', 'b.mp4', 'broken.mp4', 'e.MP4', 'sub/c.mp4']
    assert manifest['failed'] == {}
    index = VideoIndex.load(out)
    torch.testing.assert_close(index.feats[index.paths.index('b.mp4')],
                               encode_video(model, osp.join(videos, 'b.mp4'))[0])
    # the shards no video uses any more are deleted
    used = {entry['shard'] for entry in manifest['videos'].values()}
    assert set(os.listdir(osp.join(out, SHARD_DIR))) == used == set(manifest['shards'])

    results = search_videos(model, QUERIES[0], out, topk=2)
    assert len(results) == 2 and all(p.startswith(videos + os.sep) for p, _ in results)


def test_leftovers_of_a_killed_run_are_cleaned_and_encoded_again(setup, tmp_path):
    model, out = setup['model'], str(tmp_path / 'index')
    index_videos(model, setup['videos'], out, setup['checkpoint'], batch_size=1, shard_size=2, show_progress=False)
    manifest = manifest_of(out)
    assert len(manifest['shards']) == 3
    # the state a kill leaves between writing a shard and the manifest, with a temporary file half-written
    last = sorted(manifest['shards'])[-1]
    lost = [rel for rel, e in manifest['videos'].items() if e['shard'] == last]
    for rel in lost:
        del manifest['videos'][rel]
    del manifest['shards'][last]
    with open(osp.join(out, MANIFEST), 'w') as f:
        json.dump(manifest, f)
    open(osp.join(out, SHARD_DIR, f'.{last}.abc.tmp'), 'wb').close()
    with open(osp.join(out, '.lock'), 'w') as f:
        f.write('999999999')  # a run that no longer exists
    with CountCalls(model) as counter:
        index_videos(model, setup['videos'], out, setup['checkpoint'], show_progress=False)
    assert counter.videos == len(lost) == 1
    names = os.listdir(osp.join(out, SHARD_DIR))  # the orphan shard was removed, its video written anew
    assert sorted(names) == sorted(manifest_of(out)['shards']) and len(names) == 3
    assert torch.load(osp.join(out, SHARD_DIR, last), weights_only=True)['paths'] == lost
    assert len(VideoIndex.load(out)) == 5


def test_another_checkpoint_config_or_folder_is_refused(setup, tmp_path):
    model, out = setup['model'], str(tmp_path / 'index')
    index_videos(model, setup['videos'], out, setup['checkpoint'], show_progress=False)
    assert check_index(out, setup['config'], setup['checkpoint'], setup['videos'])['embed_dim'] == 16
    # the same file moved: the same sha256
    moved = shutil.copy(setup['checkpoint'], str(tmp_path / 'moved.pth'))
    check_index(out, setup['config'], moved)
    other = save_checkpoint(setup['config'], str(tmp_path / 'other.pth'), seed=1)
    with pytest.raises(IndexMismatchError, match=r'(?s)checkpoint .*alpro_tiny\.pth.*not .*other\.pth.*--rebuild'):
        index_videos(init_model(setup['config'], other), setup['videos'], out, other, show_progress=False)
    config = write_tiny_alpro_config(str(tmp_path / 'other.py'), setup['vocab'], setup['vocab_size'], embed_dim=8)
    with pytest.raises(IndexMismatchError, match=r'another config.*model\.embed_dim.*new --out'):
        check_index(out, config, setup['checkpoint'])
    with pytest.raises(IndexMismatchError, match=r'another config.*model\.embed_dim'):
        search_videos(init_model(config), QUERIES[0], out)
    with pytest.raises(IndexMismatchError, match='indexes the videos of'):
        index_videos(model, str(tmp_path), out, setup['checkpoint'], show_progress=False)
    # --rebuild replaces it
    other_model = init_model(setup['config'], other)
    summary = index_videos(other_model, setup['videos'], out, other, rebuild=True, show_progress=False)
    assert summary['encoded'] == 5 and manifest_of(out)['model']['checkpoint'] == osp.abspath(other)
    assert len(os.listdir(osp.join(out, SHARD_DIR))) == 1


def test_the_ranking_settings_do_not_tie_an_index_to_a_config(setup, tmp_path):
    model, out = setup['model'], str(tmp_path / 'index')
    index_videos(model, setup['videos'], out, setup['checkpoint'], show_progress=False)
    assert 'inference' not in manifest_of(out)['signature']['model']
    # model.inference (how AlproRetrieval ranks) does not change the embeddings: the index fits the other config
    lavis = dict(mode='lavis', k=3, batch_size=2)
    config = write_tiny_alpro_config(str(tmp_path / 'lavis.py'), setup['vocab'], setup['vocab_size'], inference=lavis)
    assert check_index(out, config, setup['checkpoint'], setup['videos'])['embed_dim'] == 16
    lavis_model = init_model(config, setup['checkpoint'])
    assert lavis_model.inference_mode == 'lavis'
    assert search_videos(lavis_model, QUERIES[0], out, topk=5) == search_videos(model, QUERIES[0], out, topk=5)
    with CountCalls(lavis_model) as counter:
        summary = index_videos(lavis_model, setup['videos'], out, setup['checkpoint'], show_progress=False)
    assert counter.videos == 0 and summary['reused'] == 5
    # nor in a manifest written while the signature still held it
    manifest = manifest_of(out)
    manifest['signature']['model']['inference'] = dict(mode='official', k=256, batch_size=64)
    with open(osp.join(out, MANIFEST), 'w') as f:
        json.dump(manifest, f)
    check_index(out, config, setup['checkpoint'])
    check_index(out, setup['config'], setup['checkpoint'])
    # the other settings of the model still count
    config = write_tiny_alpro_config(
        str(tmp_path / 'other.py'), setup['vocab'], setup['vocab_size'], inference=lavis, embed_dim=8)
    with pytest.raises(IndexMismatchError, match=r'these settings differ: model\.embed_dim\.'):
        check_index(out, config, setup['checkpoint'])


def test_index_folder_safety(setup, tmp_path):
    model = setup['model']
    busy = tmp_path / 'busy'
    busy.mkdir()
    (busy / '.lock').write_text(str(os.getppid()))  # a live process
    with pytest.raises(IndexBusyError, match=r'being written by another index run \(pid'):
        index_videos(model, setup['videos'], str(busy), setup['checkpoint'], show_progress=False)
    (tmp_path / 'other' / 'x').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='holds no video index'):
        index_videos(model, setup['videos'], str(tmp_path / 'other'), setup['checkpoint'], show_progress=False)
    with pytest.raises(FileNotFoundError, match='no manifest.json'):
        VideoIndex.load(str(tmp_path / 'other'))
    (tmp_path / 'other' / MANIFEST).write_text('{"format": "something else"}')
    with pytest.raises(IndexMismatchError, match=r'manifest.json is not a videoalign video index.*--rebuild'):
        index_videos(model, setup['videos'], str(tmp_path / 'other'), setup['checkpoint'], show_progress=False)
    (tmp_path / 'other' / MANIFEST).write_text('{"format": ')
    with pytest.raises(IndexMismatchError, match=r'manifest.json cannot be read'):
        VideoIndex.load(str(tmp_path / 'other'))


def test_tokens_are_added_to_an_index_without_them(setup, tmp_path):
    model, out = setup['model'], str(tmp_path / 'index')
    videos = str(tmp_path / 'videos')
    shutil.copytree(setup['videos'], videos)
    index_videos(model, videos, out, setup['checkpoint'], show_progress=False)
    with pytest.raises(ValueError, match='--save-tokens'):
        rank_videos(model, QUERIES[0], out, rerank=2)
    with CountCalls(model) as counter:
        index_videos(model, videos, out, setup['checkpoint'], save_tokens=True, show_progress=False)
    assert counter.videos == 5
    index = VideoIndex.load(out)
    assert index.tokens is not None and index.tokens[torch.tensor([0, 3])].dtype == torch.float16
    assert manifest_of(out)['tokens'] == dict(shape=[17, 32], dtype='float16')
    ranked = rank_videos(model, QUERIES[0], index, topk=5, rerank=5)[0]
    assert all(m['reranked'] for m in ranked)
    assert [m['score'] for m in ranked] == sorted((m['score'] for m in ranked), reverse=True)
    # once there, tokens are kept: a run without save_tokens still saves them for a new video
    shutil.copy(osp.join(videos, 'a.mp4'), osp.join(videos, 'f.mp4'))
    with CountCalls(model) as counter:
        index_videos(model, videos, out, setup['checkpoint'], show_progress=False)
    assert counter.videos == 1
    index = VideoIndex.load(out)
    assert len(index) == 6 and index.tokens is not None
    torch.testing.assert_close(index.tokens[[index.paths.index('f.mp4')]], index.tokens[[0]])


def test_a_model_without_its_config_is_refused(setup, tmp_path):
    model = init_model(setup['config'])
    del model.cfg
    with pytest.raises(ValueError, match=r'AlproRetrieval has no config in model.cfg.*init_model'):
        index_videos(model, setup['videos'], str(tmp_path / 'index'), show_progress=False)
