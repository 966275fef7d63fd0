"""The README's quick-start video-text model: it trains, and demo/demo.py scores free text with its checkpoint."""
import os.path as osp
import re

import torch

from videoalign.testing import QUICKSTART_CONFIG, QUICKSTART_TINY_OPTIONS, REPO_ROOT, run_tool, tiny_run_options


def test_quickstart_model_trains_and_scores_free_text(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    options = tiny_run_options(tiny_synthetic, max_epochs=4, batch_size=10, model_options=QUICKSTART_TINY_OPTIONS)
    proc = run_tool(['python', 'tools/train.py', QUICKSTART_CONFIG, '--work-dir', work_dir] + options)
    losses = [float(x) for x in re.findall(r'Epoch\(train\) +\[\d+\]\[\s*\d+/\d+\].* loss: ([0-9.]+)', proc.stdout)]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3]), losses  # 30 clips / batch 10 x 4 epochs
    assert 'lr x0.1, decay x1' in proc.stdout  # the text tower trains at a tenth of the lr
    checkpoint = osp.join(work_dir, 'epoch_4.pth')
    # the class names are data: the training set's are saved with the checkpoint
    classes = torch.load(checkpoint, weights_only=False)['meta']['dataset_meta']['classes']
    assert len(classes) == 10 and 'move_left' in classes
    video = osp.join(tiny_synthetic, 'videos', 'test', 'move_left_0000.mp4')
    labels = ['move left', 'a red square slides from left to right', 'juggling balls']
    # from a folder outside the repository, with nothing but the config, the checkpoint and absolute paths
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    demo = [
        'python',
        osp.join(REPO_ROOT, 'demo', 'demo.py'), video, '--config', QUICKSTART_CONFIG, '--checkpoint', checkpoint,
        '--cfg-options', *QUICKSTART_TINY_OPTIONS
    ]
    proc = run_tool(demo + ['--labels', *labels], cwd=str(outside))
    rows = re.findall(r'^\s*(\d)\. ([0-9.]+)  (.+)$', proc.stdout, re.M)
    assert sorted(r[2] for r in rows) == sorted(labels), proc.stdout
    assert abs(sum(float(r[1]) for r in rows) - 1) < 1e-3
    # without --labels: the model's own classes, from the checkpoint
    proc = run_tool(demo + ['--topk', '3'], cwd=str(outside))
    rows = re.findall(r'^\s*(\d)\. ([0-9.]+)  (.+)$', proc.stdout, re.M)
    assert len(rows) == 3 and {r[2] for r in rows} <= set(classes), proc.stdout
