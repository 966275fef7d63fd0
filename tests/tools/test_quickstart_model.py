"""The README's quick-start video-text model: it trains, and demo/demo.py scores free text with its checkpoint."""
import os.path as osp
import re

from videoalign.testing import QUICKSTART_CONFIG, QUICKSTART_TINY_OPTIONS, run_tool, tiny_run_options


def test_quickstart_model_trains_and_scores_free_text(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    label_map = f'model.cls_head.class_names={tiny_synthetic}/label_map.txt'
    options = tiny_run_options(tiny_synthetic, max_epochs=4, batch_size=10, model_options=QUICKSTART_TINY_OPTIONS)
    proc = run_tool(['python', 'tools/train.py', QUICKSTART_CONFIG, '--work-dir', work_dir] + options + [label_map])
    losses = [float(x) for x in re.findall(r'Epoch\(train\) +\[\d+\]\[\s*\d+/\d+\].* loss: ([0-9.]+)', proc.stdout)]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3]), losses  # 30 clips / batch 10 x 4 epochs
    assert 'lr x0.1, decay x1' in proc.stdout  # the text tower trains at a tenth of the lr
    checkpoint = osp.join(work_dir, 'epoch_4.pth')
    video = osp.join(tiny_synthetic, 'videos', 'test', 'move_left_0000.mp4')
    labels = ['move left', 'a red square slides from left to right', 'juggling balls']
    proc = run_tool(['python', 'demo/demo.py', video, '--config', QUICKSTART_CONFIG, '--checkpoint', checkpoint,
                     '--labels', *labels, '--cfg-options', label_map, *QUICKSTART_TINY_OPTIONS])
    rows = re.findall(r'^\s*(\d)\. ([0-9.]+)  (.+)$', proc.stdout, re.M)
    assert sorted(r[2] for r in rows) == sorted(labels), proc.stdout
    assert abs(sum(float(r[1]) for r in rows) - 1) < 1e-3
