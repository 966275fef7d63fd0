"""The one place where videoalign works around defects of its pinned dependencies.

Nothing else in videoalign patches third-party code. Each defect below was reproduced on the pinned stack
(``requirements/pinned-cpu-py311.txt``); see ``docs/get_started.md`` for the user-facing summary.

1. mmaction2 1.2.0's wheel lacks ``mmaction/models/localizers/drn/`` although ``mmaction.models`` imports it:
   :func:`~videoalign.compat.mmaction_packaging.provide_missing_drn` installs a stand-in module, so that
   ``import mmaction.models`` (and every registry lookup that falls back to mmaction's scope) works. Using DRN
   itself raises an ``ImportError`` that says why.
2. torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, which mmengine 0.10.7 does not override,
   so resuming or ``load_from`` of any Runner-written checkpoint fails. :mod:`~videoalign.compat.checkpoint`
   re-registers mmengine's local-file scheme (full unpickling: these are files the user's own runs wrote) and its
   http(s) scheme (tensors and plain containers only: a file from the network never runs code).
3. mmengine's distributed launch assumes CUDA: :mod:`~videoalign.compat.distributed` initialises a gloo process
   group before the Runner is built and selects a DDP wrapper that accepts CPU modules; after a run,
   :func:`~videoalign.compat.distributed.shutdown_distributed` destroys the process group, without which a gloo rank can
   abort at exit (SIGABRT) after training has finished.
4. mmaction2's ``SwinTransformer3D`` with ``pretrained=None`` fails in ``init_weights`` unless
   ``pretrained2d=False``: :func:`~videoalign.compat.swin.fix_swin_init_weights` makes it initialise as configured.
5. NumPy 2 removed ``np.Inf`` and ``np.NAN``, still used by mmaction2's pose and AVA code:
   :func:`~videoalign.compat.mmaction_packaging.restore_numpy_aliases` restores the two aliases.
6. mmcv-lite warns on every import that its compiled ops are missing (used by nothing here):
   :func:`~videoalign.compat.mmaction_packaging.quiet_mmcv_lite` filters that one warning.
7. Under NumPy 2, mmaction2's ``ColorJitter`` raises ``OverflowError`` in its hue shift in about 40% of the draws:
   :func:`~videoalign.compat.mmaction_numpy2.fix_color_jitter_hue` makes it shift hues as under NumPy 1.
8. mmaction2's ``BaseHead`` turns bf16 scores into NumPy (``TypeError``) for its training accuracy and stores bf16
   predictions: :func:`~videoalign.compat.mmaction_bf16.fix_bf16_head_scores` hands it float32 scores.
9. mmengine 0.10.7's ``AmpOptimWrapper`` asserts that an accelerator is available, so ``--amp`` cannot train on a
   CPU: :func:`~videoalign.compat.amp_cpu.allow_cpu_amp` builds it for bf16 CPU autocast without a loss scale.
10. mmaction2's video loaders (``DecordInit``, ``OpenCVInit``, ...) build mmengine's deprecated ``FileClient``, which
    logs two deprecation warnings in every test and inference run:
    :func:`~videoalign.compat.mmaction_fileclient.quiet_file_client_deprecation` has them build a ``FileClient``
    that drops exactly those two messages.

:func:`apply` runs every item but 3 when ``videoalign`` is imported; item 3 acts when the tools build a Runner
(they call :func:`~videoalign.compat.distributed.setup_distributed`). Every patch keeps the original as
``__wrapped__``; nothing in this package imports the rest of videoalign.
"""
from .amp_cpu import allow_cpu_amp
from .checkpoint import load_checkpoint_safely, register_checkpoint_schemes
from .distributed import CPUDistributedDataParallel, setup_distributed, shutdown_distributed
from .mmaction_bf16 import fix_bf16_head_scores
from .mmaction_fileclient import quiet_file_client_deprecation
from .mmaction_numpy2 import fix_color_jitter_hue
from .mmaction_packaging import provide_missing_drn, quiet_mmcv_lite, restore_numpy_aliases
from .swin import fix_swin_init_weights

__all__ = [
    'apply', 'load_checkpoint_safely', 'setup_distributed', 'shutdown_distributed', 'CPUDistributedDataParallel',
    'register_checkpoint_schemes', 'provide_missing_drn', 'quiet_mmcv_lite', 'restore_numpy_aliases',
    'fix_color_jitter_hue', 'fix_bf16_head_scores', 'fix_swin_init_weights', 'allow_cpu_amp',
    'quiet_file_client_deprecation'
]

_applied = False


def apply() -> None:
    """Apply the import-time work-arounds (idempotent)."""
    global _applied
    if _applied:
        return
    restore_numpy_aliases()
    quiet_mmcv_lite()
    provide_missing_drn()
    fix_color_jitter_hue()
    quiet_file_client_deprecation()
    fix_bf16_head_scores()
    fix_swin_init_weights()
    allow_cpu_amp()
    register_checkpoint_schemes()
    _applied = True
