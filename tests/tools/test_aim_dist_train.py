"""tools/dist_train.sh with the full AIM ViT-B/16 config: two CPU (gloo) ranks, two iterations each (about 70 s).

The real model of configs/aim/vit-b16_k400.py, initialised from a CLIP ViT-B/16 file in OpenAI's layout with random
weights (no CLIP file is needed), trains on the tiny synthetic set (the pipelines resize it to 224).
"""
import glob
import os.path as osp
import re
import socket

import torch

from videoalign.models.backbones.clip_vit import CLIPViT
from videoalign.testing import run_tool

CONFIG = 'configs/aim/vit-b16_k400.py'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dist_train_full_aim_two_cpu_ranks(tiny_synthetic, tmp_path):
    clip_file = tmp_path / 'ViT-B-16-random.pt'
    torch.manual_seed(0)
    clip = CLIPViT('ViT-B/16')  # with proj, as OpenAI's visual tower
    clip.init_weights()
    torch.save({'visual.' + k: v for k, v in clip.state_dict().items()}, clip_file)
    del clip

    work_dir = str(tmp_path / 'work')
    options = [
        f'model.backbone.init_cfg.checkpoint={clip_file}',
        f'train_dataloader.dataset.ann_file={tiny_synthetic}/synthetic_train_list_videos.txt',
        f'train_dataloader.dataset.data_prefix.video={tiny_synthetic}/videos',
        'train_dataloader.dataset.class_names=None',  # the 400-class head, on the 10 synthetic classes
        'train_dataloader.dataset.indices=4',  # 4 clips: 2 per rank
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint=None',
        'log_level=DEBUG',  # mmengine writes a log file per rank
    ]
    try:
        proc = run_tool(
            ['bash', 'tools/dist_train.sh', CONFIG, '2', '--no-validate', '--work-dir', work_dir, '--cfg-options'] +
            options,
            env=dict(PORT=str(_free_port())))
    finally:
        clip_file.unlink()
    out = proc.stdout + proc.stderr
    assert f"load CLIP weights 'visual.' from '{clip_file}'" in out
    assert re.search(r'backbone +10,659,072 +85,797,888', out)  # trainable / frozen parameters
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*_rank[01].log')))
    assert [log[-9:] for log in logs] == ['rank0.log', 'rank1.log'], logs
    for log in logs:
        with open(log) as f:
            iterations = re.findall(r'Epoch\(train\) +\[1\]\[(\d)/(\d)\].* loss: [0-9.]+', f.read())
        assert iterations == [('1', '2'), ('2', '2')], (log, iterations)
