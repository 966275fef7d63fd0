"""Killing the launcher ends its ranks, a live run's work dir is refused to a second run, --dump is checked before
testing, a test set with many unreadable videos is still scored, and strict loading of a checkpoint that does not
fit."""
import os
import os.path as osp
import pickle
import re
import shutil
import signal
import subprocess
import time

import torch

from videoalign.testing import R3D_CONFIG, REPO_ROOT, launcher_env, run_tool, tiny_run_options


def _children(pid: int) -> list:
    """The pids of all living descendants of ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if fields[0] != 'Z':
                parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_killed_launcher_takes_its_ranks_and_the_work_dir_is_locked_meanwhile(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    env = launcher_env()
    train = ['--work-dir', work_dir] + tiny_run_options(tiny_synthetic, max_epochs=200, batch_size=3)
    log_path = tmp_path / 'launcher.log'
    with open(log_path, 'w') as log:
        launcher = subprocess.Popen(
            ['bash', 'tools/dist_train.sh', R3D_CONFIG, '2'] + train,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT)
    ranks = []
    try:
        deadline = time.time() + 300
        while not osp.isfile(osp.join(work_dir, 'epoch_1.pth')):
            assert launcher.poll() is None, log_path.read_text()[-4000:]
            assert time.time() < deadline, 'no checkpoint within 300 s'
            time.sleep(0.1)
        ranks = _children(launcher.pid)
        assert len(ranks) >= 2, ranks

        # a second run on the same work dir is refused while the first one lives, naming its owner
        second = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--resume'] + train, check=False)
        assert second.returncode != 0
        assert re.search(r'work dir .* is in use by another training run \(pid \d+ on ', second.stderr), \
            second.stderr[-3000:]

        launcher.send_signal(signal.SIGKILL)  # the launcher dies without passing anything on
        launcher.wait(timeout=30)
        deadline = time.time() + 60
        while any(_alive(pid) for pid in ranks):
            assert time.time() < deadline, f'ranks still alive 60 s after their launcher died: {ranks}'
            time.sleep(0.2)
    finally:  # whatever happened, no process of this test outlives it
        for pid in [launcher.pid] + _children(launcher.pid) + ranks:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # the work dir is free again: the resumed run goes ahead
    resumed = run_tool(['python', 'tools/train.py', R3D_CONFIG, '--resume', '--work-dir', work_dir] +
                       tiny_run_options(tiny_synthetic, max_epochs=1, batch_size=3))
    assert 'nothing to train: the resumed run has finished' in resumed.stdout + resumed.stderr


def test_dump_path_is_checked_before_testing_and_written_atomically(tiny_synthetic, tmp_path):
    work_dir = str(tmp_path / 'work')
    run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir] +
             tiny_run_options(tiny_synthetic, max_epochs=1))
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    blocked = tmp_path / 'not_a_dir'
    blocked.write_text('a file where the dump folder should be')
    start = time.time()
    proc = run_tool(
        [
            'python', 'tools/test.py', R3D_CONFIG, checkpoint, '--dump',
            str(blocked / 'preds.pkl'), '--work-dir',
            str(tmp_path / 't')
        ] + tiny_run_options(tiny_synthetic),
        check=False)
    assert proc.returncode != 0 and f'--dump {blocked}/preds.pkl: cannot write to {blocked}' in proc.stderr
    assert 'test metrics' not in proc.stdout and time.time() - start < 60
    dump = tmp_path / 'out' / 'preds.pkl'  # a folder that does not exist yet is created
    run_tool(
        ['python', 'tools/test.py', R3D_CONFIG, checkpoint, '--dump',
         str(dump), '--work-dir',
         str(tmp_path / 't')] + tiny_run_options(tiny_synthetic))
    with open(dump, 'rb') as f:
        assert len(pickle.load(f)) == 20
    assert os.listdir(dump.parent) == ['preds.pkl']

    # a checkpoint of another model is an error listing the keys, unless --non-strict
    other = str(tmp_path / 'other.pth')
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    state = {k.replace('cls_head.', 'other_head.'): v for k, v in state.items()}
    torch.save({'state_dict': state}, other)
    proc = run_tool(
        ['python', 'tools/test.py', R3D_CONFIG, other, '--work-dir',
         str(tmp_path / 't')] + tiny_run_options(tiny_synthetic),
        check=False)
    assert proc.returncode != 0 and 'test metrics' not in proc.stdout
    assert 'unexpected key in source state_dict: other_head.fc_cls.weight' in proc.stderr
    assert 'missing keys in source state_dict: cls_head.fc_cls.weight' in proc.stderr and '--non-strict' in proc.stderr
    proc = run_tool(['python', 'tools/test.py', R3D_CONFIG, other, '--non-strict', '--work-dir',
                     str(tmp_path / 't')] + tiny_run_options(tiny_synthetic))
    assert 'test metrics' in proc.stdout


def test_many_unreadable_test_videos_are_skipped_and_the_rest_scored(tiny_synthetic, tmp_path):
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic, data)
    test_list = osp.join(data, 'synthetic_test_list_videos.txt')
    with open(test_list) as f:
        lines = f.read().split('\n')
    lines = [line for line in lines if line]
    # 60 unreadable videos in a row, listed first, then the 20 real ones
    missing = [f'test/missing_{i:03d}.mp4 {i % 10}' for i in range(60)]
    with open(test_list, 'w') as f:
        f.write('\n'.join(missing + lines) + '\n')
    work_dir = str(tmp_path / 'work')
    run_tool(['python', 'tools/train.py', R3D_CONFIG, '--work-dir', work_dir] + tiny_run_options(data, max_epochs=1))
    proc = run_tool(
        ['python', 'tools/test.py', R3D_CONFIG,
         osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
         str(tmp_path / 't')] + tiny_run_options(data))
    assert re.search(r'"acc/skipped_videos": 60\b', proc.stdout), proc.stdout[-2000:]
    assert re.search(r'"acc/top1": [0-9.]+', proc.stdout)
