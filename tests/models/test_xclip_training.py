"""A tiny X-CLIP: it trains on the synthetic set with falling loss, and gradients reach exactly what should train."""
import os.path as osp
import re

import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

from videoalign.registry import MODELS
from videoalign.testing import XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS, run_tool, tiny_run_options


def test_tiny_xclip_trains_and_loss_falls(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    options = tiny_run_options(tiny_synthetic, max_epochs=6, batch_size=10, model_options=XCLIP_TINY_OPTIONS)
    options += ['optim_wrapper.optimizer.lr=0.003']
    proc = run_tool(['python', 'tools/train.py', XCLIP_QUICKSTART_CONFIG, '--work-dir', work_dir] + options)
    losses = [float(x) for x in re.findall(r'Epoch\(train\) +\[\d+\]\[\s*\d+/\d+\].* loss: ([0-9.]+)', proc.stdout)]
    assert len(losses) == 18, proc.stdout[-3000:]  # 30 clips / batch 10 = 3 iterations x 6 epochs
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first - 0.2, f'loss did not fall: {losses}'
    assert osp.isfile(osp.join(work_dir, 'epoch_6.pth'))


def test_gradients_reach_exactly_the_trainable_parameters():
    cfg = Config.fromfile(XCLIP_QUICKSTART_CONFIG)
    cfg.model.cls_head.class_names = [f'class {i}' for i in range(10)]
    cfg.model.cls_head.freeze_text = True
    init_default_scope('videoalign')
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {n
                      for n, _ in model.named_parameters()
                      if n.startswith('cls_head.text_encoder.')} | {'cls_head.logit_scale'}
    inputs = torch.randn(4, 1, 3, 8, 56, 56)
    samples = [ActionDataSample().set_gt_label(i) for i in range(4)]
    losses = model.loss(inputs, samples)
    losses['loss_cls'].backward()
    for name, param in model.named_parameters():
        if name in frozen:
            assert param.grad is None, f'frozen {name} got a gradient'
        else:
            assert param.grad is not None and param.grad.abs().sum() > 0, f'no gradient for {name}'
    assert model.cls_head.text_encoder.training is False  # a frozen text tower stays in eval mode


def test_frozen_class_text_is_encoded_once_across_train_steps():
    cfg = Config.fromfile(XCLIP_QUICKSTART_CONFIG)
    cfg.model.cls_head.class_names = [f'class {i}' for i in range(4)]
    init_default_scope('videoalign')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    calls = []
    model.cls_head.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    inputs = torch.randn(2, 1, 3, 8, 32, 32)
    samples = [ActionDataSample().set_gt_label(i) for i in range(2)]
    for _ in range(2):
        optimizer.zero_grad()
        model.loss(inputs, samples)['loss_cls'].backward()
        optimizer.step()
    assert len(calls) == 1
