"""Mixed precision for the tools and the inference API: which dtype ``--amp`` means on a device."""
import contextlib
import itertools
from typing import ContextManager, Mapping, Union

import torch
import torch.nn as nn


def amp_dtype(device: Union[str, torch.device]) -> torch.dtype:
    """The autocast dtype of ``--amp`` on ``device``.

    bfloat16 on a CPU (the only dtype of CPU autocast) and on GPUs that support it (Ampere and newer); float16
    otherwise, which needs a loss scale in training.

    Args:
        device (str | torch.device): The device the model runs on, e.g. ``'cpu'`` or ``'cuda:0'``.

    Returns:
        torch.dtype: ``torch.bfloat16`` or ``torch.float16``.
    """
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def module_device(module: nn.Module) -> torch.device:
    """The device of a module's first parameter (or buffer); the CPU for a module without either."""
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        return tensor.device
    return torch.device('cpu')


def autocast(device: Union[str, torch.device, nn.Module], enabled: bool = True) -> ContextManager:
    """``torch.autocast`` in :func:`amp_dtype` on ``device``'s type, or a context that does nothing.

    Args:
        device (str | torch.device | nn.Module): The device the model runs on, or the model.
        enabled (bool): Whether to autocast. Defaults to True.

    Returns:
        ContextManager: The autocast context.
    """
    if not enabled:
        return contextlib.nullcontext()
    device = module_device(device) if isinstance(device, nn.Module) else torch.device(device)
    return torch.autocast(device_type=device.type, dtype=amp_dtype(device))


def amp_optim_wrapper(optim_wrapper: Mapping, device: Union[str, torch.device], where: str = 'the config') -> dict:
    """An ``optim_wrapper`` config that trains under autocast, as ``tools/train.py --amp`` makes it.

    An ``OptimWrapper`` becomes mmengine's ``AmpOptimWrapper`` in :func:`amp_dtype` of ``device``, with a dynamic loss
    scale in fp16 and none in bf16 (which has fp32's exponent range; on a CPU, ``videoalign.compat`` builds the
    wrapper without one in any case). An ``AmpOptimWrapper`` keeps its own dtype and loss scale.

    Args:
        optim_wrapper (Mapping): The ``optim_wrapper`` of a config.
        device (str | torch.device): The device training runs on.
        where (str): What to name in the error (e.g. the config file). Defaults to 'the config'.

    Returns:
        dict: A new ``optim_wrapper`` config.

    Raises:
        ValueError: If the wrapper is neither ``OptimWrapper`` nor ``AmpOptimWrapper``.
    """
    wrapper = dict(optim_wrapper)
    kind = wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise ValueError(f'--amp supports optim_wrapper.type OptimWrapper or AmpOptimWrapper in {where}, not {kind!r}')
    if kind == 'OptimWrapper':
        dtype = amp_dtype(device)
        wrapper.update(
            type='AmpOptimWrapper',
            dtype=str(dtype).replace('torch.', ''),
            loss_scale='dynamic' if dtype == torch.float16 else dict(enabled=False))
    return wrapper
