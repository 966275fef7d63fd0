"""Writing an index folder: :func:`index_videos` encodes every video of a folder into shards and a manifest,
resumably, with a lock against concurrent runs (the folder format and :class:`VideoIndex` are in
:mod:`videoalign.apis.video_index`).
"""
import contextlib
import json
import logging
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Dataset

from ..utils.fileio import atomic_write
from .retrieval import (VIDEO_EXTS, IndexBusyError, UnreadableVideoError, _encode_samples, _load_video, _model_cfg,
                        _require, _test_pipeline)
from .video_index import INDEX_FORMAT, INDEX_VERSION, MANIFEST, SHARD_DIR, _checkpoint_identity, _signature, check_index

__all__ = ['TOKEN_DTYPES', 'index_videos']

TOKEN_DTYPES = {'float16': torch.float16, 'float32': torch.float32}


def _scan(video_dir: str, exts: Sequence[str], skip: str) -> Dict[str, Tuple[int, float]]:
    """``relative path -> (size, mtime)`` of the videos under ``video_dir`` (hidden files and ``skip`` left out)."""
    exts = tuple(e.lower() if e.startswith('.') else '.' + e.lower() for e in exts)
    found, seen = {}, set()
    for folder, dirs, files in os.walk(video_dir, followlinks=True):
        real = osp.realpath(folder)
        if real in seen:  # a link back to a folder already walked
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and osp.abspath(osp.join(folder, d)) != skip)
        for name in files:
            if name.startswith('.') or not name.lower().endswith(exts):
                continue
            path = osp.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # a broken link
                continue
            found[osp.relpath(path, video_dir).replace(os.sep, '/')] = (stat.st_size, stat.st_mtime)
    return dict(sorted(found.items()))


class _Lock:
    """``<index_dir>/.lock`` holding the pid of the run writing the index; a lock of a dead process is taken over."""

    def __init__(self, index_dir: str) -> None:
        self.path = osp.join(index_dir, '.lock')

    def __enter__(self) -> '_Lock':
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    with open(self.path) as f:
                        pid = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise IndexBusyError(f'{osp.dirname(self.path)} is being written by another index run (pid {pid}); '
                                         f'wait for it, or remove {self.path} if there is no such process') from None
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path)
                continue
            with os.fdopen(fd, 'w') as f:
                f.write(str(os.getpid()))
            return self
        raise RuntimeError(f'cannot take the lock {self.path}')

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _VideoFiles(Dataset):
    """The test pipeline's output of each video, or the error that stopped it: ``(i, packed or None, error)``."""

    def __init__(self, paths: List[str], pipeline: Compose) -> None:
        self.paths = paths
        self.pipeline = pipeline

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Tuple[int, Optional[dict], Optional[str]]:
        try:
            return i, _load_video(self.pipeline, self.paths[i]), None
        except (FileNotFoundError, UnreadableVideoError) as err:
            cause = err.__cause__
            return i, None, f'{type(cause).__name__}: {cause}' if cause else str(err)


def _as_list(batch: list) -> list:
    """The collate function of the video loader: the samples as they are (they are collated once the unreadable
    ones are set aside)."""
    return batch


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ''


class _Writer:
    """Adds encoded videos to an index folder: a shard and then the manifest, each written atomically."""

    def __init__(self, index_dir: str, manifest: dict, tokens_dtype: torch.dtype) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.tokens_dtype = tokens_dtype
        self.pending: List[Tuple[str, Tuple[int, float], torch.Tensor, Optional[torch.Tensor]]] = []
        numbers = [int(name[6:11]) for name in manifest['shards'] if name[6:11].isdigit()]
        self.next_shard = max(numbers, default=-1) + 1

    def add(self, rel: str, stat: Tuple[int, float], feat: torch.Tensor, tokens: Optional[torch.Tensor]) -> None:
        self.pending.append((rel, stat, feat, tokens))
        self.manifest['failed'].pop(rel, None)

    def fail(self, rel: str, stat: Tuple[int, float], error: str) -> None:
        self.manifest['failed'][rel] = dict(size=stat[0], mtime=stat[1], error=_first_line(error))

    def flush(self) -> None:
        """Write the pending videos as a new shard, then the manifest."""
        if self.pending:
            name = f'shard_{self.next_shard:05d}.pth'
            self.next_shard += 1
            has_tokens = self.pending[0][3] is not None
            shard = dict(
                paths=[p[0] for p in self.pending],
                video_feat=torch.stack([p[2] for p in self.pending]).float().contiguous())
            if has_tokens:
                shard['video_tokens'] = torch.stack([p[3] for p in self.pending]).to(self.tokens_dtype).contiguous()
            with atomic_write(osp.join(self.index_dir, SHARD_DIR, name)) as f:
                torch.save(shard, f)
            self.manifest['shards'][name] = dict(videos=len(self.pending), tokens=has_tokens)
            for row, (rel, stat, _, _) in enumerate(self.pending):
                self.manifest['videos'][rel] = dict(size=stat[0], mtime=stat[1], shard=name, row=row)
            self.pending = []
        self.write_manifest()

    def write_manifest(self) -> None:
        self.manifest['updated'] = time.strftime('%Y-%m-%d %H:%M:%S')
        with atomic_write(osp.join(self.index_dir, MANIFEST), 'w') as f:
            json.dump(self.manifest, f, indent=1)

    def remove_unused_shards(self) -> List[str]:
        """Delete the shards of the folder that no video of the manifest uses (after the manifest is written)."""
        used = {entry['shard'] for entry in self.manifest['videos'].values()}
        for name in [n for n in self.manifest['shards'] if n not in used]:
            del self.manifest['shards'][name]
        self.write_manifest()
        removed = []
        folder = osp.join(self.index_dir, SHARD_DIR)
        for name in sorted(os.listdir(folder)) if osp.isdir(folder) else []:
            if name not in self.manifest['shards'] and (name.endswith('.pth') or name.endswith('.tmp')):
                os.remove(osp.join(folder, name))
                removed.append(name)
        return removed


def index_videos(model: nn.Module,
                 video_dir: str,
                 out_dir: str,
                 checkpoint: Optional[str] = None,
                 batch_size: int = 8,
                 num_workers: int = 0,
                 save_tokens: bool = False,
                 tokens_dtype: str = 'float16',
                 exts: Sequence[str] = VIDEO_EXTS,
                 shard_size: int = 256,
                 rebuild: bool = False,
                 retry_failed: bool = False,
                 amp: bool = False,
                 show_progress: bool = True) -> dict:
    """Encode every video under ``video_dir`` into the index folder ``out_dir``, or bring an index up to date.

    Only what is missing is encoded: videos not in the index, videos whose size or modification time changed, and,
    with ``save_tokens``, videos indexed without their tokens. Videos gone from the folder leave the index. Every
    ``shard_size`` videos a shard file and then ``manifest.json`` are written (atomically), so an interrupted run
    loses at most the videos of the shard under way; those are encoded by the next run. Videos that cannot be read
    are listed in the manifest (``failed``) and not tried again unless they change (or ``retry_failed``).

    Args:
        model (nn.Module): A retrieval model from :func:`~videoalign.apis.init_model`.
        video_dir (str): The folder of videos (searched recursively).
        out_dir (str): The index folder.
        checkpoint (str, optional): The checkpoint the model was loaded from, recorded in the manifest (with its
            sha256) so that an index is never extended or searched with another one. Defaults to None.
        batch_size (int): Videos per forward pass. Defaults to 8.
        num_workers (int): Processes decoding videos. Defaults to 0 (in this process).
        save_tokens (bool): Also save the video tokens, for re-ranking (``(1 + P) x D`` values a video). Once an
            index holds tokens, later runs keep saving them. Defaults to False.
        tokens_dtype (str): ``'float16'`` or ``'float32'``. Defaults to ``'float16'``.
        exts (Sequence[str]): File extensions to index. Defaults to :data:`VIDEO_EXTS`.
        shard_size (int): Videos per shard file. Defaults to 256.
        rebuild (bool): Discard the index in ``out_dir`` and start again. Defaults to False.
        retry_failed (bool): Try again the videos that failed before. Defaults to False.
        amp (bool): Encode under autocast (bf16 on a CPU or a GPU that supports it, else fp16). Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``videos`` (indexed now), ``encoded``, ``reused``, ``removed`` (gone from the folder), ``failed``
        (``{path: error}`` of this run) and ``skipped_failed`` (failed before, unchanged).

    Raises:
        IndexMismatchError: If ``out_dir`` holds an index of another config, checkpoint or video folder.
    """
    _require(model, ['encode_video'], 'indexing videos')
    for name, value in (('batch_size', batch_size), ('shard_size', shard_size)):
        if value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}')
    if num_workers < 0:
        raise ValueError(f'num_workers must be >= 0, got {num_workers}')
    if tokens_dtype not in TOKEN_DTYPES:
        raise ValueError(f'tokens_dtype must be one of {sorted(TOKEN_DTYPES)}, got {tokens_dtype!r}')
    if not osp.isdir(video_dir):
        raise FileNotFoundError(f'video folder {video_dir} does not exist')
    cfg = _model_cfg(model)
    pipeline = _test_pipeline(model)
    video_dir, out_dir = osp.abspath(video_dir), osp.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with _Lock(out_dir):
        if rebuild and osp.exists(osp.join(out_dir, MANIFEST)):
            os.remove(osp.join(out_dir, MANIFEST))  # its shards are removed below, as unused
        manifest = check_index(out_dir, cfg, checkpoint, video_dir)
        if manifest is None:
            others = sorted(set(os.listdir(out_dir)) - {'.lock', SHARD_DIR})
            if others:
                raise FileExistsError(f'{out_dir} is a folder that holds no video index but other files '
                                      f'({", ".join(others[:3])}): give a new or empty folder for the index')
            manifest = dict(
                format=INDEX_FORMAT,
                version=INDEX_VERSION,
                created=time.strftime('%Y-%m-%d %H:%M:%S'),
                video_dir=video_dir,
                model=dict(type=type(model).__name__, config=cfg.filename, **_checkpoint_identity(checkpoint)),
                signature=_signature(cfg),
                embed_dim=None,
                tokens=None,
                shards={},
                videos={},
                failed={})
        elif checkpoint is not None:
            manifest['model'].update(_checkpoint_identity(checkpoint, manifest['model']))  # a moved/touched file
        save_tokens = save_tokens or bool(manifest['tokens'])
        writer = _Writer(out_dir, manifest, TOKEN_DTYPES[(manifest['tokens'] or {}).get('dtype', tokens_dtype)])
        # leftovers of an interrupted run: shards written after the last manifest, temporary files
        for folder in (out_dir, osp.join(out_dir, SHARD_DIR)):
            for name in os.listdir(folder) if osp.isdir(folder) else []:
                if name.startswith('.') and name.endswith('.tmp'):
                    os.remove(osp.join(folder, name))
        missing_shards = [n for n in manifest['shards'] if not osp.isfile(osp.join(out_dir, SHARD_DIR, n))]
        for rel in [r for r, e in manifest['videos'].items() if e['shard'] in missing_shards]:
            del manifest['videos'][rel]
        writer.remove_unused_shards()

        found = _scan(video_dir, exts, skip=out_dir)
        removed = [rel for rel in list(manifest['videos']) + list(manifest['failed']) if rel not in found]
        for rel in removed:
            manifest['videos'].pop(rel, None)
            manifest['failed'].pop(rel, None)
        todo, reused, skipped_failed, changed = [], 0, [], 0
        shards = manifest['shards']
        for rel, stat in found.items():
            entry = manifest['videos'].get(rel)
            if entry is not None and (entry['size'], entry['mtime']) == stat:
                if save_tokens and not shards[entry['shard']]['tokens']:
                    todo.append(rel)
                else:
                    reused += 1
                continue
            if entry is not None:
                changed += 1
                del manifest['videos'][rel]
            failed = manifest['failed'].get(rel)
            if failed is not None and (failed['size'], failed['mtime']) == stat and not retry_failed:
                skipped_failed.append(rel)
                continue
            todo.append(rel)
        print_log(
            f'{len(found)} videos in {video_dir}: {reused} already indexed, {changed} changed, '
            f'{len(skipped_failed)} unreadable before (not retried), {len(removed)} gone from the folder; '
            f'encoding {len(todo)} into {out_dir}',
            logger='current')

        failed_now = {}
        encoded = 0
        if todo:
            dataset = _VideoFiles([osp.join(video_dir, rel) for rel in todo], pipeline)
            loader = DataLoader(
                dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=_as_list)
            bar = ProgressBar(len(todo)) if show_progress else None
            try:
                for batch in loader:
                    good = [(i, packed) for i, packed, _ in batch if packed is not None]
                    for i, _, error in batch:
                        if error is not None:
                            failed_now[todo[i]] = error
                            writer.fail(todo[i], found[todo[i]], error)
                    if good:
                        feats, tokens = _encode_samples(model, [packed for _, packed in good], save_tokens, amp)
                        if manifest['embed_dim'] is None:
                            manifest['embed_dim'] = int(feats.shape[1])
                        if save_tokens and manifest['tokens'] is None:
                            manifest['tokens'] = dict(shape=list(tokens.shape[1:]), dtype=tokens_dtype)
                        for row, (i, _) in enumerate(good):
                            writer.add(todo[i], found[todo[i]], feats[row], None if tokens is None else tokens[row])
                        encoded += len(good)
                    if len(writer.pending) >= shard_size:
                        writer.flush()
                    if bar is not None:
                        bar.update(len(batch))
            finally:
                if bar is not None:
                    print()
                # what was encoded before an error or an interruption is kept
                writer.flush()
        removed_shards = writer.remove_unused_shards()
    if removed_shards:
        print_log(f'removed {len(removed_shards)} shard(s) no video uses any more', logger='current')
    if failed_now:
        lines = '\n'.join(f'  {rel}\t{_first_line(err)}' for rel, err in list(failed_now.items())[:20])
        more = f'\n  ... and {len(failed_now) - 20} more' if len(failed_now) > 20 else ''
        print_log(
            f'{len(failed_now)} unreadable videos skipped (listed under "failed" in '
            f'{osp.join(out_dir, MANIFEST)}):\n{lines}{more}',
            logger='current',
            level=logging.WARNING)
    print_log(f'{len(manifest["videos"])} videos indexed in {out_dir} ({encoded} encoded now)', logger='current')
    return dict(
        videos=len(manifest['videos']),
        encoded=encoded,
        reused=reused,
        removed=removed,
        failed=failed_now,
        skipped_failed=skipped_failed)
