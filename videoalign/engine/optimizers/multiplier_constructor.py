"""Parameter groups by name: learning-rate multipliers for new modules, weight-decay rules, frozen weights left out."""
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from ...registry import OPTIM_WRAPPER_CONSTRUCTORS


def _longest_match(name: str, table: Dict[str, float]) -> Optional[str]:
    matches = [key for key in table if key in name]
    return max(matches, key=len) if matches else None


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiplierOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Build parameter groups from name substrings, as the CLIP-adaptation recipes need.

    Unlike mmengine's ``custom_keys`` (where a matching key switches off the bias/norm rules), the learning-rate
    multiplier and the weight-decay rules apply independently, so e.g. a new module's bias gets both 10x lr and no
    decay (X-CLIP's recipe). Parameters with ``requires_grad=False`` are not given to the optimizer at all, so frozen
    weights carry no optimizer state. Parameters with equal settings share one group. The groups are logged.

    ``paramwise_cfg`` keys:

    - ``lr_mult`` (dict[str, float]): substring of a parameter name -> lr multiplier; the longest matching substring
      wins (mmcv's rule). Unmatched parameters get 1.
    - ``decay_mult`` (dict[str, float]): likewise for the weight decay (e.g. ``positional_embedding: 0``).
    - ``no_decay_1d`` (bool): no weight decay for parameters with at most one dimension (biases, norms, embeddings
      of one vector), as CLIP-based recipes do. Defaults to True.

    Args:
        optim_wrapper_cfg (dict): As for mmengine's ``DefaultOptimWrapperConstructor``.
        paramwise_cfg (dict, optional): See above. Defaults to None (all 1, ``no_decay_1d`` True).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        self.lr_mult = dict(paramwise_cfg.pop('lr_mult', {}))
        self.decay_mult = dict(paramwise_cfg.pop('decay_mult', {}))
        self.no_decay_1d = paramwise_cfg.pop('no_decay_1d', True)
        if paramwise_cfg:
            raise KeyError(f'{type(self).__name__}: unknown paramwise_cfg keys {sorted(paramwise_cfg)}; '
                           'expected lr_mult, decay_mult, no_decay_1d')
        # a non-empty paramwise_cfg makes the parent call add_params
        super().__init__(optim_wrapper_cfg, dict(videoalign=True))

    def _settings(self, name: str, param: nn.Parameter) -> Tuple[float, float]:
        lr_key = _longest_match(name, self.lr_mult)
        decay_key = _longest_match(name, self.decay_mult)
        lr_mult = self.lr_mult[lr_key] if lr_key else 1.
        decay_mult = self.decay_mult[decay_key] if decay_key else 1.
        if self.no_decay_1d and param.ndim <= 1:
            decay_mult = 0.
        return lr_mult, decay_mult

    def add_params(self, params: List[dict], module: nn.Module, **kwargs) -> None:
        """Fill ``params`` with one group per distinct (lr multiplier, decay multiplier)."""
        groups: Dict[Tuple[float, float], dict] = OrderedDict()
        frozen = 0
        for name, param in module.named_parameters():
            if not param.requires_grad:
                frozen += param.numel()
                continue
            key = self._settings(name, param)
            group = groups.setdefault(key, dict(params=[], names=[], lr=self.base_lr * key[0]))
            if self.base_wd is not None:
                group['weight_decay'] = self.base_wd * key[1]
            group['params'].append(param)
            group['names'].append(name)
        lines = []
        for (lr_mult, decay_mult), group in groups.items():
            count = sum(p.numel() for p in group['params'])
            lines.append(f'  lr x{lr_mult:g}, decay x{decay_mult:g}: {len(group["params"])} tensors, {count:,} params')
            params.append({k: v for k, v in group.items() if k != 'names'})
        print_log(
            'optimizer parameter groups:\n' + '\n'.join(lines) + f'\n  frozen (not optimized): {frozen:,} params',
            logger='current')
