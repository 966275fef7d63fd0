"""Checks at the end of distributed training that every rank holds the same weights."""
import hashlib

import torch
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...registry import HOOKS


def state_checksum(module: torch.nn.Module) -> str:
    """SHA-256 over the names and bytes of every parameter and buffer of ``module``.

    Args:
        module (torch.nn.Module): The model (unwrapped).

    Returns:
        str: The hex digest.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@HOOKS.register_module()
class WeightSyncCheckHook(Hook):
    """After training, compare a checksum of the weights across ranks; log it, and raise if they differ.

    Args:
        strict (bool): Raise ``RuntimeError`` when ranks differ (otherwise log an error). Defaults to True.
    """

    priority = 'VERY_LOW'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    def after_train(self, runner) -> None:
        """Gather the checksums of all ranks and compare them."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        checksums = all_gather_object(state_checksum(model))
        world_size = get_world_size()
        if len(set(checksums)) == 1:
            runner.logger.info(f'weights identical on all {world_size} rank(s): sha256 {checksums[0][:16]}')
            return
        message = 'weights differ between ranks: ' + ', '.join(f'rank {i}: {c[:16]}' for i, c in enumerate(checksums))
        if self.strict:
            raise RuntimeError(message)
        runner.logger.error(message)
