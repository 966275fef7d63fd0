"""mmengine 0.10.7's ``AmpOptimWrapper`` on a machine without an accelerator.

The defect: ``AmpOptimWrapper.__init__`` (``mmengine/optim/optimizer/amp_optimizer_wrapper.py``) asserts that CUDA,
NPU, MLU or MUSA is available, so mixed-precision training cannot be configured on a CPU although
``torch.autocast('cpu', dtype=torch.bfloat16)`` exists and ``mmengine.runner.autocast`` (which the wrapper's
``optim_context`` enters) already supports it. Reproduced with torch 2.14.1 on a CPU-only machine:
``AmpOptimWrapper(optimizer=...)`` raised ``AssertionError: ``AmpOptimizerWrapper`` is only available training on
gpu, npu, mlu or musa``.

The fix (:func:`allow_cpu_amp`): where no accelerator is available, the wrapper is built for CPU autocast, which is
bfloat16 only: ``dtype`` None or ``'bfloat16'`` gives bfloat16, any other dtype is a ``ValueError`` that says so.
bfloat16 has float32's exponent range, so no loss scale is needed: the loss scaler is a disabled
``torch.amp.GradScaler`` (scale, unscale and update do nothing, ``step`` is the optimizer's), whatever
``loss_scale`` says; checkpoints still carry a ``loss_scaler`` entry (empty). With an accelerator the original
``__init__`` runs unchanged. The original stays reachable as ``__wrapped__``.
"""
import functools
from typing import Callable, Optional, Union

import torch

CPU_AMP_DTYPE = torch.bfloat16


def _accelerator_available() -> bool:
    """Whether mmengine would accept ``AmpOptimWrapper`` on this machine."""
    from mmengine.device import is_cuda_available, is_mlu_available, is_musa_available, is_npu_available
    return is_cuda_available() or is_npu_available() or is_mlu_available() or is_musa_available()


def _cpu_dtype(dtype: Optional[Union[str, torch.dtype]]) -> torch.dtype:
    """The autocast dtype for CPU from ``AmpOptimWrapper``'s ``dtype`` argument."""
    if dtype is None or dtype in ('bfloat16', torch.bfloat16):
        return CPU_AMP_DTYPE
    raise ValueError(f'AmpOptimWrapper(dtype={dtype!r}) on a CPU: CPU autocast supports bfloat16 only; set '
                     "optim_wrapper.dtype='bfloat16' (or leave it unset) or train on a GPU")


def _cpu_init(original: Callable) -> Callable:
    """Wrap ``AmpOptimWrapper.__init__`` so that it builds a bf16 wrapper without a loss scale on CPU."""

    @functools.wraps(original)
    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp: bool = False, **kwargs):
        if _accelerator_available():
            return original(self, loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
        from mmengine.optim import OptimWrapper
        cast_dtype = _cpu_dtype(dtype)
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = cast_dtype

    return __init__


def allow_cpu_amp() -> None:
    """Let mmengine's ``AmpOptimWrapper`` train in bf16 autocast on a CPU (idempotent)."""
    from mmengine.optim import AmpOptimWrapper
    init = AmpOptimWrapper.__dict__['__init__']
    if not hasattr(init, '__wrapped__'):
        AmpOptimWrapper.__init__ = _cpu_init(init)
