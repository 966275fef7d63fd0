"""End to end: a user's own backbone, neck, head and loss, registered in videoalign's registries from a module
outside the repository and trained from a config through ``custom_imports`` (as ``docs/plugins.md`` describes)."""
import math
import os
import os.path as osp
import re
import subprocess
from pathlib import Path
from string import Template
from typing import List

import torch

from videoalign.testing import R3D_CONFIG, REPO_ROOT, run_tool, tiny_run_options

PLUGIN_TYPES = ('MyTinyBackbone', 'MyIdentityNeck', 'MyHead', 'MyLoss')

INIT_PY = '''\
"""A user's plugins: importing the package registers every component in videoalign's registries."""
from .backbone import MyTinyBackbone
from .head import MyHead
from .loss import MyLoss
from .neck import MyIdentityNeck

__all__ = ['MyTinyBackbone', 'MyIdentityNeck', 'MyHead', 'MyLoss']
'''

BACKBONE_PY = '''\
"""A tiny 3D convolutional backbone."""
from typing import List, Optional, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from videoalign.registry import MODELS


@MODELS.register_module()
class MyTinyBackbone(BaseModule):
    """Four 3D convolutions, each halving height and width and doubling the channels.

    Maps (N, in_channels, T, H, W) to (N, 8 * base_channels, T, H / 16, W / 16), which I3DHead or MyHead pools.

    Args:
        in_channels (int): Channels of the input clips. Defaults to 3.
        base_channels (int): Channels of the first convolution. Defaults to 16.
        init_cfg (dict or list[dict], optional): Initialization config. Defaults to Kaiming for the convolutions.
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 16,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg or [dict(type='Kaiming', layer='Conv3d'),
                                               dict(type='Constant', layer='BatchNorm3d', val=1.0)])
        channels = [in_channels] + [base_channels * 2**i for i in range(4)]
        self.out_channels = channels[-1]
        self.my_stages = nn.Sequential(*[
            nn.Sequential(
                nn.Conv3d(c_in, c_out, kernel_size=3, stride=(1, 2, 2), padding=1, bias=False),
                nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)) for c_in, c_out in zip(channels[:-1], channels[1:])
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the feature map.

        Args:
            x (torch.Tensor): Clips of shape (N, C, T, H, W).

        Returns:
            torch.Tensor: Features of shape (N, C', T, H', W').
        """
        return self.my_stages(x)
'''

NECK_PY = '''\
"""A neck that changes nothing."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from videoalign.registry import MODELS


@MODELS.register_module()
class MyIdentityNeck(BaseModule):
    """Return the backbone's features unchanged and no auxiliary loss."""

    def forward(self, x: torch.Tensor, data_samples: Optional[list] = None) -> Tuple[torch.Tensor, dict]:
        """Recognizer3D calls ``neck(x, data_samples=...)`` in training and ``neck(x)`` in testing.

        Args:
            x (torch.Tensor): Backbone features.
            data_samples (list, optional): The batch's data samples. Defaults to None.

        Returns:
            tuple[torch.Tensor, dict]: The features and the auxiliary losses (none).
        """
        return x, dict()
'''

HEAD_PY = '''\
"""A linear classification head."""
from typing import Optional

import torch
from mmaction.models.heads.base import BaseHead
from torch import nn

from videoalign.registry import MODELS


@MODELS.register_module()
class MyHead(BaseHead):
    """Average-pool a (N, C, T, H, W) feature map and classify it with one linear layer.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the feature map.
        loss_cls (dict): Config of the loss. Defaults to ``dict(type='MyLoss')``.
        dropout_ratio (float): Dropout before the linear layer. Defaults to 0.
        init_cfg (dict, optional): Initialization config. Defaults to a normal init of the linear layer.
        **kwargs: Other arguments of ``BaseHead`` (``average_clips``, ``topk``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, loss_cls: Optional[dict] = None,
                 dropout_ratio: float = 0.0, init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(num_classes, in_channels, loss_cls=loss_cls or dict(type='MyLoss'),
                         init_cfg=init_cfg or dict(type='Normal', layer='Linear', std=0.01), **kwargs)
        self.my_pool = nn.AdaptiveAvgPool3d(1)
        self.my_dropout = nn.Dropout(dropout_ratio)
        self.my_fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Compute class scores.

        Args:
            x (torch.Tensor): Features of shape (N, C, T, H, W).
            **kwargs: Unused (``loss_aux`` from the recognizer).

        Returns:
            torch.Tensor: Scores of shape (N, num_classes).
        """
        return self.my_fc(self.my_dropout(self.my_pool(x).flatten(1)))
'''

LOSS_PY = '''\
"""Cross-entropy under a name of its own."""
from typing import Dict

import torch
from mmaction.models.losses import CrossEntropyLoss

from videoalign.registry import MODELS


@MODELS.register_module()
class MyLoss(CrossEntropyLoss):
    """mmaction2's cross-entropy, logged as ``loss_my``."""

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the loss.

        Args:
            cls_score (torch.Tensor): Class scores of shape (N, num_classes).
            label (torch.Tensor): Class indices of shape (N,) or soft labels of shape (N, num_classes).
            **kwargs: Passed to ``CrossEntropyLoss``.

        Returns:
            dict[str, torch.Tensor]: ``loss_my``, which the head puts into its losses as it is.
        """
        return dict(loss_my=super().forward(cls_score, label, **kwargs))
'''

PLUGIN_FILES = {
    '__init__.py': INIT_PY,
    'backbone.py': BACKBONE_PY,
    'neck.py': NECK_PY,
    'head.py': HEAD_PY,
    'loss.py': LOSS_PY
}

CONFIG = Template('''\
custom_imports = dict(imports=$imports, allow_failed_imports=False)
_base_ = [$base]

model = dict(
    backbone=dict(_delete_=True, type=$backbone, in_channels=3, base_channels=16),
    neck=dict(type='MyIdentityNeck'),
    cls_head=dict(
        _delete_=True,
        type='MyHead',
        num_classes={{_base_.num_classes}},
        in_channels=128,  # 8 * base_channels
        dropout_ratio=0.2,
        average_clips='prob',
        loss_cls=dict(type='MyLoss')))
''')


def write_plugins(root: Path) -> None:
    """Write the ``my_plugins`` package into ``root``."""
    package = root / 'my_plugins'
    package.mkdir()
    for name, text in PLUGIN_FILES.items():
        (package / name).write_text(text)


def write_config(root: Path, backbone: str = 'MyTinyBackbone', imports: tuple = ('my_plugins', )) -> str:
    """Write a config inheriting the quick-start one with the plugin model, and return its path."""
    path = root / 'my_plugin_config.py'
    path.write_text(CONFIG.substitute(imports=repr(list(imports)), base=repr(R3D_CONFIG), backbone=repr(backbone)))
    return str(path)


def train(tmp_path: Path, config: str, data_dir: str) -> subprocess.CompletedProcess:
    """Run ``tools/train.py`` for one epoch with ``tmp_path`` on ``PYTHONPATH``."""
    command: List[str] = ['python', 'tools/train.py', config, '--work-dir', str(tmp_path / 'work')]
    command += tiny_run_options(data_dir, max_epochs=1)
    return run_tool(command, env={'PYTHONPATH': f'{tmp_path}{os.pathsep}{REPO_ROOT}'}, timeout=300, check=False)


def test_plugins_train_end_to_end(tmp_path, tiny_synthetic):
    write_plugins(tmp_path)
    proc = train(tmp_path, write_config(tmp_path), tiny_synthetic)
    assert proc.returncode == 0, f'--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}'

    work_dir = tmp_path / 'work'
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file(), sorted(os.listdir(work_dir))
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    keys = set(state['state_dict'])
    # the parameters are those of the plugin modules (tiny_run_options sets base_channels=4, in_channels=32)
    assert 'backbone.my_stages.0.0.weight' in keys and 'backbone.my_stages.3.1.running_mean' in keys, sorted(keys)
    assert state['state_dict']['backbone.my_stages.3.0.weight'].shape[0] == 32
    assert state['state_dict']['cls_head.my_fc.weight'].shape == (10, 32)
    assert all(key.startswith(('backbone.my_stages.', 'cls_head.my_fc.')) for key in keys), sorted(keys)
    dumped = (work_dir / 'my_plugin_config.py').read_text()
    for plugin_type in PLUGIN_TYPES:
        assert f"'{plugin_type}'" in state['meta']['cfg'] and f"'{plugin_type}'" in dumped, plugin_type

    # MyLoss names its loss ``loss_my``: its values in the log show it computed the loss, and that they are finite
    losses = [float(value) for value in re.findall(r'loss_my: (\S+)', proc.stdout)]
    assert losses, proc.stdout[-6000:]
    assert all(math.isfinite(value) for value in losses), losses


def test_plugins_misspelt_type(tmp_path, tiny_synthetic):
    write_plugins(tmp_path)
    proc = train(tmp_path, write_config(tmp_path, backbone='MyTinyBackbon'), tiny_synthetic)
    assert proc.returncode != 0
    assert 'MyTinyBackbon is not in the videoalign::model registry' in proc.stderr, proc.stderr[-6000:]
    assert not osp.exists(tmp_path / 'work' / 'epoch_1.pth')


def test_plugins_missing_module(tmp_path, tiny_synthetic):
    write_plugins(tmp_path)
    proc = train(tmp_path, write_config(tmp_path, imports=('my_plugins_missing', )), tiny_synthetic)
    assert proc.returncode != 0
    assert "No module named 'my_plugins_missing'" in proc.stderr, proc.stderr[-6000:]
    assert 'Failed to import custom modules' in proc.stderr, proc.stderr[-6000:]
