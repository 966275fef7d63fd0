"""mmengine's Runner with safe defaults for checkpoints, resuming, work directories and labels."""
import copy
import glob
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import List, Optional

import torch.nn as nn
from mmengine.dist import is_main_process, master_only
from mmengine.runner import Runner

from ...compat.checkpoint import CheckpointReadError
from ...registry import RUNNERS
from ...utils.collect_env import collect_env
from ...utils.fileio import replace_atomically, temporary_name
from ..hooks.checkpoint_hook import SafeCheckpointHook
from ..hooks.visualization_hook import VideoVisualizationHook
from .loops import ResumableEpochBasedTrainLoop
from .work_dir_lock import WorkDirLock

_CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def _replace_type(cfg: Optional[dict], names: tuple, new_type: type) -> Optional[dict]:
    """A copy of ``cfg`` with ``type`` replaced by ``new_type`` if it is one of ``names``."""
    if isinstance(cfg, dict) and cfg.get('type') in names:
        cfg = copy.deepcopy(cfg)
        cfg['type'] = new_type
    return cfg


@RUNNERS.register_module()
class VideoAlignRunner(Runner):
    """The Runner of videoalign's tools: mmengine's ``Runner``, safe by default.

    - **Checkpoints are written atomically** (a temporary file renamed when complete): a kill or a full disk never
      leaves a truncated ``epoch_N.pth``; the config's ``CheckpointHook`` becomes :class:`SafeCheckpointHook`, which
      deletes old and previous-best checkpoints only after the new one exists.
    - **Resuming continues where the run stopped**: ``EpochBasedTrainLoop`` becomes
      :class:`ResumableEpochBasedTrainLoop` (an iteration checkpoint resumes at the next batch; a finished run trains
      nothing); ``resume=True`` without a checkpoint falls back past unreadable checkpoints to the newest loadable
      one, and warns loudly when the work dir holds none.
    - **One run per work dir**: training holds ``<work_dir>/.train.lock`` (:class:`WorkDirLock`).
    - **Labels are checked** against the classes before any work (:class:`LabelCheckHook`), and **class names come
      from the data**: a head that scores class-name text takes those of the dataset it runs on
      (:class:`ClassNamesHook`).
    - **Testing can load strictly**: with ``load_strict = True`` (``tools/test.py``, unless ``--non-strict``) a
      ``load_from`` checkpoint whose keys do not fit the model is an error listing them.
    - The ``meta['config']`` string of a loaded checkpoint, which mmengine's ``resume`` would execute as a Python
      config, is dropped.
    - **Visual results work for video models**: ``default_hooks.visualization`` of type ``VisualizationHook``
      (mmaction2's, which crashes on ``NCTHW`` inputs) becomes :class:`VideoVisualizationHook`.
    - **The environment log names the whole stack**: the versions of :func:`~videoalign.utils.collect_env`
      (videoalign, mmaction2, mmcv, open_clip, decord, besides mmengine's torch, CUDA, compiler and CPU details) are
      logged with mmengine's runtime environment when the Runner is built, at the start of every run.

    Arguments as mmengine's ``Runner``. ``tools/train.py`` and ``tools/test.py`` build it unless the config names
    another ``runner_type``.
    """

    #: load ``load_from`` with ``strict=True`` (missing or unexpected keys raise)
    load_strict: bool = False

    def build_train_loop(self, loop):
        """mmengine's, with ``EpochBasedTrainLoop`` made :class:`ResumableEpochBasedTrainLoop`."""
        if isinstance(loop, dict) and loop.get('by_epoch') and 'type' not in loop:
            loop = {k: v for k, v in loop.items() if k != 'by_epoch'}
            loop['type'] = 'EpochBasedTrainLoop'
        loop = _replace_type(loop, ('EpochBasedTrainLoop', 'mmengine.EpochBasedTrainLoop'),
                             ResumableEpochBasedTrainLoop)
        return super().build_train_loop(loop)

    def register_default_hooks(self, hooks: Optional[dict] = None) -> None:
        """mmengine's default hooks, with :class:`SafeCheckpointHook`, :class:`VideoVisualizationHook`,
        :class:`LabelCheckHook` and :class:`ClassNamesHook`."""
        hooks = dict(hooks or {})
        hooks['checkpoint'] = _replace_type(
            hooks.get('checkpoint', dict(type='CheckpointHook', interval=1)),
            ('CheckpointHook', 'mmengine.CheckpointHook'), SafeCheckpointHook)
        if 'visualization' in hooks:
            hooks['visualization'] = _replace_type(hooks['visualization'],
                                                   ('VisualizationHook', 'mmaction.VisualizationHook'),
                                                   VideoVisualizationHook)
        hooks.setdefault('label_check', dict(type='LabelCheckHook'))
        hooks.setdefault('class_names', dict(type='ClassNamesHook'))
        super().register_default_hooks(hooks)

    def _log_env(self, env_cfg: dict) -> None:
        """mmengine's environment log, with the versions of :func:`~videoalign.utils.collect_env`.

        Args:
            env_cfg (dict): The environment config of the runner.
        """
        env = collect_env()
        runtime_env = OrderedDict(env_cfg)
        runtime_env.update(self._randomness_cfg)
        runtime_env['seed'] = self._seed
        runtime_env['Distributed launcher'] = self._launcher
        runtime_env['Distributed training'] = self._distributed
        runtime_env['GPU number'] = self._world_size
        env_info = '\n    ' + '\n    '.join(f'{k}: {v}' for k, v in env.items())
        runtime_env_info = '\n    ' + '\n    '.join(f'{k}: {v}' for k, v in runtime_env.items())
        dash_line = '-' * 60
        self.logger.info('\n' + dash_line + '\nSystem environment:' + env_info + '\n\nRuntime environment:' +
                         runtime_env_info + '\n' + dash_line + '\n')
        if self.cfg._cfg_dict:
            self.logger.info(f'Config:\n{self.cfg.pretty_text}')

    def train(self) -> nn.Module:
        """Train while holding the work dir's lock (main process)."""
        if not is_main_process():
            return super().train()
        with WorkDirLock(self.work_dir):
            return super().train()

    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args=None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """mmengine's, written to a temporary file that is renamed to ``filename`` once complete (local files)."""
        if file_client_args is not None or backend_args is not None or '://' in out_dir:
            return super().save_checkpoint(out_dir, filename, file_client_args, save_optimizer, save_param_scheduler,
                                           meta, by_epoch, backend_args)
        path = osp.join(out_dir, filename)
        tmp = temporary_name(path)
        try:
            super().save_checkpoint(out_dir, osp.basename(tmp), None, save_optimizer, save_param_scheduler, meta,
                                    by_epoch, None)
            replace_atomically(tmp, path)
        except BaseException as err:
            if osp.exists(tmp):
                os.remove(tmp)
            if isinstance(err, OSError):
                raise OSError(
                    err.errno, f'cannot write the checkpoint {path}: {err.strerror or err}; the earlier '
                    f'checkpoints in {out_dir} are untouched') from err
            raise

    def load_checkpoint(self,
                        filename: str,
                        map_location='cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:  # noqa: B006  (mmengine's signature)
        """mmengine's, without the executable ``meta['config']``; a strict load that fails says how to opt out."""
        try:
            checkpoint = super().load_checkpoint(filename, map_location, strict, revise_keys)
        except RuntimeError as err:
            if strict and 'state_dict' in str(err):
                raise RuntimeError(f'{filename} does not fit the model of {self.cfg.filename or "this config"} '
                                   f'(strict loading): {err}\nIf that is expected, load it non-strictly '
                                   f'(tools/test.py and demo/demo.py: --non-strict).') from None
            raise
        if isinstance(checkpoint.get('meta'), dict):
            checkpoint['meta'].pop('config', None)
        return checkpoint

    def _resume_candidates(self) -> List[str]:
        """Checkpoints to resume from, best first: ``last_checkpoint``'s, then ``epoch_N``/``iter_N`` files by N."""
        folders, candidates = [self.work_dir], []
        record = osp.join(self.work_dir, 'last_checkpoint')
        if osp.isfile(record):
            with open(record, encoding='utf-8') as f:
                last = f.read().strip()
            if last:
                candidates.append(last)
                folders.append(osp.dirname(last))
        found = {p for folder in folders for p in glob.glob(osp.join(glob.escape(folder), '*.pth'))}
        numbered = sorted((p for p in found if _CHECKPOINT_NAME.match(osp.basename(p))),
                          key=lambda p: (int(_CHECKPOINT_NAME.match(osp.basename(p)).group(2)), osp.getmtime(p)),
                          reverse=True)
        return list(dict.fromkeys(candidates + numbered))

    def _auto_resume(self) -> bool:
        """Resume from the newest loadable checkpoint of the work dir; False if there is none."""
        candidates = self._resume_candidates()
        for path in candidates:
            try:
                self.resume(path)
            except (CheckpointReadError, FileNotFoundError) as err:
                self.logger.warning(f'cannot resume from {path} ({err}); trying the next newest checkpoint')
                continue
            self.logger.info(f'Auto resumed from the latest checkpoint {path}.')
            return True
        what = 'none of its checkpoints could be loaded' if candidates else 'it holds no checkpoint'
        self.logger.warning(
            f'\n{"!" * 80}\n--resume: nothing to resume in the work dir {osp.abspath(self.work_dir)}: {what}. '
            f'Training starts from scratch. If you meant to continue a run, check --work-dir.\n{"!" * 80}')
        return False

    def load_or_resume(self) -> None:
        """Resume (``resume=True``) or load ``load_from`` (strictly if :attr:`load_strict`), once."""
        if self._has_loaded:
            return
        if self._resume and self._load_from is None:
            self._auto_resume()
        elif self._resume:
            self.resume(self._load_from)
        elif self._load_from is not None:
            self.load_checkpoint(self._load_from, strict=self.load_strict)
        else:
            return
        self._has_loaded = True
