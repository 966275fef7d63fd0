"""tools/train.py, tools/test.py and tools/dist_train.sh end to end on the tiny synthetic dataset (CPU)."""
import os
import os.path as osp
import pickle
import re
import shutil
import signal
import subprocess
import time

import cv2
import torch

from videoalign.testing import R3D_CONFIG, REPO_ROOT, free_port, launcher_env, run_tool, tiny_run_options


def _final_state(work_dir: str) -> dict:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read().strip()
    return torch.load(path, map_location='cpu', weights_only=False)


def test_train_then_test(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir, '--seed', '1'] +
                    tiny_run_options(tiny_synthetic, max_epochs=2))
    assert {'epoch_1.pth', 'epoch_2.pth', 'last_checkpoint'} <= set(os.listdir(work_dir))
    env = proc.stdout.split('Runtime environment:')[0]  # videoalign's versions, with mmengine's environment log
    for name in ('PyTorch', 'MMEngine', 'videoalign', 'MMAction2', 'MMCV', 'open_clip', 'decord', 'CUDA available'):
        assert re.search(rf'^    {name}: \S', env, re.M), f'{name} not in the environment log:\n{env[-3000:]}'
    ckpt = _final_state(work_dir)
    assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['seed'] == 1

    dump, show_dir = str(tmp_path / 'preds.pkl'), str(tmp_path / 'show')
    proc = run_tool([
        'python', 'tools/test.py', R3D_CONFIG,
        osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--dump', dump, '--show-dir', show_dir
    ] + tiny_run_options(tiny_synthetic))
    out = proc.stdout + proc.stderr
    assert '"FileClient" will be deprecated' not in out and 'HardDiskBackend' not in out  # compat item 10
    # --show-dir: one video per test clip, named after it, with the frames the model saw (8, enlarged to 224)
    with open(osp.join(tiny_synthetic, 'synthetic_test_list_videos.txt')) as f:
        names = sorted(osp.splitext(osp.basename(line.split()[0]))[0] + '.mp4' for line in f if line.strip())
    assert sorted(os.listdir(show_dir)) == names
    shown = cv2.VideoCapture(osp.join(show_dir, names[0]))
    assert shown.get(cv2.CAP_PROP_FRAME_COUNT) == 8 and shown.read()[1].shape == (224, 224, 3)
    metrics = re.search(r'^test metrics: .*"acc/top1": ([0-9.]+)', proc.stdout, re.M)
    assert metrics is not None, proc.stdout[-2000:]
    assert 0.0 <= float(metrics.group(1)) <= 1.0
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 20 and preds[0]['pred_score'].shape == (10, )  # 2 test clips x 10 classes


def test_amp_train_and_test_on_cpu(tiny_synthetic, tmp_path):
    """--amp trains with AmpOptimWrapper in bf16 (no loss scale) and validates and tests under autocast."""
    work_dir = str(tmp_path / 'work')
    run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir, '--amp'] +
             tiny_run_options(tiny_synthetic, max_epochs=1))
    ckpt = _final_state(work_dir)
    assert ckpt['optimizer']['loss_scaler'] == {}  # AmpOptimWrapper's (disabled) scaler: bf16 needs none
    with open(osp.join(work_dir, osp.basename(R3D_CONFIG))) as f:  # the config the run used, as mmengine dumps it
        used = f.read()
    assert "type='AmpOptimWrapper'" in used and "dtype='bfloat16'" in used and 'fp16=True' in used
    proc = run_tool([
        'python', 'tools/test.py', R3D_CONFIG,
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--amp'
    ] + tiny_run_options(tiny_synthetic))
    assert re.search(r'^test metrics: .*"acc/top1": ([0-9.]+)', proc.stdout, re.M), proc.stdout[-2000:]
    with open(osp.join(tmp_path, 'test', osp.basename(R3D_CONFIG))) as f:
        assert "test_cfg = dict(fp16=True, type='TestLoop')" in f.read()


def test_test_tool_errors(tmp_path):
    proc = run_tool(['python', 'tools/test.py', R3D_CONFIG, str(tmp_path / 'nope.pth')], check=False)
    assert proc.returncode != 0 and 'nope.pth does not exist' in proc.stderr
    proc = run_tool(['python', 'tools/train.py', str(tmp_path / 'missing_config.py')], check=False)
    assert proc.returncode != 0 and 'missing_config.py does not exist' in proc.stderr


def test_load_from_wrong_checkpoint_names_keys(tiny_synthetic, tmp_path):
    bad = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': {'backbone.not_a_layer.weight': torch.zeros(1)}}, bad)
    proc = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir',
                     str(tmp_path / 'w')] + tiny_run_options(tiny_synthetic, max_epochs=1) + [f'load_from={bad}'])
    # mmengine loads non-strictly and reports both sides; the run goes on from the initial weights
    assert 'unexpected key in source state_dict: backbone.not_a_layer.weight' in proc.stdout
    assert 'missing keys in source state_dict: backbone.conv1.conv.weight' in proc.stdout


def test_corrupt_video_is_skipped_and_reported(tiny_synthetic, tmp_path):
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic, data)
    corrupt = osp.join(data, 'videos', 'train', 'grow_0001.mp4')
    with open(corrupt, 'wb') as f:
        f.write(os.urandom(2048))
    truncated = osp.join(data, 'videos', 'val', 'shrink_0000.mp4')
    with open(truncated, 'r+b') as f:
        f.truncate(osp.getsize(truncated) // 3)
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir] +
                    tiny_run_options(data, max_epochs=2))
    out = proc.stdout + proc.stderr
    assert f'skipping unreadable video {corrupt}' in out
    assert re.search(r'skipped 1 unreadable video\(s\) in iteration \d+: ' + re.escape(corrupt), out)
    assert re.search(r'skipped_videos: [12]', out)  # the running count in the training log
    with open(osp.join(work_dir, 'skipped_videos.txt')) as f:
        assert f.read().split() == [corrupt]
    # validation: the truncated video is reported and left out of the metrics, and the run still finishes
    assert f'unreadable video(s) were not evaluated: {truncated}' in out
    assert 'acc/skipped_videos: 1' in out
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def _dist_train(work_dir: str, data: str, max_epochs: int, extra: list = ()) -> list:
    return ['bash', 'tools/dist_train.sh', R3D_CONFIG, '2', '--work-dir', work_dir, *extra] + tiny_run_options(
        data, max_epochs=max_epochs, batch_size=3)


def test_dist_train_two_cpu_ranks_kill_and_resume(tiny_synthetic, tmp_path):
    """Two gloo ranks train, are killed mid-run, resume from the last checkpoint and end with equal weights."""
    work_dir = str(tmp_path / 'work')
    env = launcher_env()
    log_path = tmp_path / 'first_run.log'
    with open(log_path, 'w') as log:
        first = subprocess.Popen(
            _dist_train(work_dir, tiny_synthetic, max_epochs=8),
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.time() + 300
    while not osp.isfile(osp.join(work_dir, 'epoch_2.pth')):
        assert first.poll() is None, log_path.read_text()[-4000:]
        assert time.time() < deadline, 'no checkpoint within 300 s'
        time.sleep(0.05)
    # as a user's Ctrl-C or a scheduler's SIGTERM would: torchrun passes it on to both ranks
    os.killpg(first.pid, signal.SIGTERM)
    first.wait(timeout=120)
    assert not osp.isfile(osp.join(work_dir, 'epoch_8.pth')), 'the first run finished before it was killed'
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        resumed_from = f.read().strip()
    done = int(re.search(r'epoch_(\d+)\.pth', resumed_from).group(1))

    env['PORT'] = str(free_port())
    proc = subprocess.run(
        _dist_train(work_dir, tiny_synthetic, max_epochs=8, extra=['--resume']),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        encoding='utf-8',
        errors='replace',
        timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert f'Auto resumed from the latest checkpoint {resumed_from}' in out and f'resumed epoch: {done}' in out
    assert f'Epoch(train) [{done + 1}]' in out and f'Epoch(train) [{done}]' not in out
    assert 'weights identical on all 2 rank(s)' in out
    assert _final_state(work_dir)['meta']['epoch'] == 8
