"""MultiplierOptimWrapperConstructor."""
import pytest
import torch.nn as nn
from mmengine.registry import init_default_scope

from videoalign.registry import OPTIM_WRAPPER_CONSTRUCTORS


class _Net(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.backbone.message_fc = nn.Linear(4, 4)
        self.neck = nn.Linear(4, 4)
        self.text = nn.Linear(4, 4)
        self.text.requires_grad_(False)
        self.positional_embedding = nn.Parameter(nn.init.normal_(nn.Parameter(nn.Linear(4, 4).weight)))


def _groups(paramwise_cfg):
    init_default_scope('videoalign')
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='MultiplierOptimWrapperConstructor',
            optim_wrapper_cfg=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1)),
            paramwise_cfg=paramwise_cfg))
    model = _Net()
    optimizer = constructor(model).optimizer
    by_id = {id(p): n for n, p in model.named_parameters()}
    return {by_id[id(p)]: (g['lr'], g['weight_decay']) for g in optimizer.param_groups for p in g['params']}


def test_lr_and_decay_rules_compose():
    settings = _groups(dict(lr_mult={'message_': 10, 'neck': 10}, decay_mult={'positional_embedding': 0}))
    assert settings['backbone.weight'] == pytest.approx((1e-3, 0.1))
    assert settings['backbone.bias'] == pytest.approx((1e-3, 0.))  # 1-D: no decay
    assert settings['backbone.message_fc.weight'] == pytest.approx((1e-2, 0.1))
    assert settings['backbone.message_fc.bias'] == pytest.approx((1e-2, 0.))  # x10 lr AND no decay
    assert settings['neck.bias'] == pytest.approx((1e-2, 0.))
    assert settings['positional_embedding'] == pytest.approx((1e-3, 0.))
    assert not any(name.startswith('text.') for name in settings)  # frozen: not in the optimizer


def test_longest_key_wins_and_unknown_keys_fail():
    settings = _groups(dict(lr_mult={'backbone': 2, 'backbone.message_': 10}))
    assert settings['backbone.weight'][0] == pytest.approx(2e-3)
    assert settings['backbone.message_fc.weight'][0] == pytest.approx(1e-2)
    with pytest.raises(KeyError, match='custom_keys'):
        _groups(dict(custom_keys={}))
