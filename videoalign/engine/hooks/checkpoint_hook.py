"""mmengine's CheckpointHook that never deletes a checkpoint before its successor is on disk."""
import contextlib
import os.path as osp
from typing import Any, Iterator, List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ...registry import HOOKS
from ...utils.fileio import atomic_write


class _DeferredRemoval:
    """Wraps a file backend: ``remove`` and ``rmtree`` are recorded, every other call is passed through."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose clean-up happens after the new checkpoint exists.

    mmengine's hook deletes the previous best checkpoint, and the oldest one beyond ``max_keep_ckpts``, *before* it
    writes the new one, and writes ``last_checkpoint`` in place: a kill or a full disk in between leaves no best
    checkpoint, fewer checkpoints than asked, or a truncated ``last_checkpoint``. Here the deletions wait until the new
    file has been written (by :meth:`VideoAlignRunner.save_checkpoint`, itself atomic) and ``last_checkpoint`` is
    replaced atomically. :class:`~videoalign.engine.runner.VideoAlignRunner` uses this hook where a config asks for
    ``CheckpointHook``. Arguments as mmengine's ``CheckpointHook``.
    """

    @contextlib.contextmanager
    def _removals_after_save(self) -> Iterator[None]:
        """Defer the file removals of the block until it has finished without error."""
        backend = self.file_backend
        self.file_backend = deferred = _DeferredRemoval(backend)
        try:
            yield
        finally:
            self.file_backend = backend
        if is_main_process():
            for path in deferred.pending:
                if backend.isfile(path):
                    backend.remove(path)
                elif backend.isdir(path):
                    backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)
        if is_main_process():  # mmengine wrote last_checkpoint in place: write it again, atomically
            with atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
                f.write(self.last_ckpt)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)
