"""A tiny synthetic dataset, command-line options that shrink the quick-start run, and a subprocess runner."""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the smallest, fastest model: what the tests of the tools train
QUICKSTART_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart', 'clip-r3d-tiny-8f_synthetic.py')
R3D_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart', 'r3d-tiny-8f_synthetic.py')
XCLIP_QUICKSTART_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart', 'xclip-tiny-8f_synthetic.py')
# --cfg-options that shrink each quick-start model further
R3D_TINY_OPTIONS = ['model.backbone.base_channels=4', 'model.cls_head.in_channels=32']
QUICKSTART_TINY_OPTIONS = [
    'model.backbone.base_channels=4', 'model.neck.in_channels=32', 'model.cls_head.text_encoder.arch.text.layers=1'
]
XCLIP_TINY_OPTIONS = [
    'model.backbone.arch.vision.width=32', 'model.backbone.arch.vision.heads=2', 'model.backbone.arch.vision.layers=2',
    'model.cls_head.text_prompt.visual_width=32', 'model.cls_head.text_encoder.arch.text.layers=1'
]


def make_tiny_synthetic(out_dir: str, per_class: tuple = (3, 2, 2), size: int = 32, seed: int = 0) -> str:
    """Write a tiny synthetic dataset (16-frame clips) and return its folder.

    Args:
        out_dir (str): Where to write it.
        per_class (tuple): Train, val and test clips per class. Defaults to (3, 2, 2).
        size (int): Frame size. Defaults to 32.
        seed (int): Seed. Defaults to 0.

    Returns:
        str: ``out_dir``.
    """
    from videoalign.datasets.synthetic import generate_synthetic_dataset
    generate_synthetic_dataset(
        out_dir,
        num_train_per_class=per_class[0],
        num_val_per_class=per_class[1],
        num_test_per_class=per_class[2],
        num_frames=16,
        size=size,
        seed=seed,
        show_progress=False)
    return out_dir


def tiny_run_options(data_dir: str,
                     max_epochs: int = 2,
                     batch_size: int = 6,
                     model_options: Sequence[str] = tuple(R3D_TINY_OPTIONS)) -> List[str]:
    """``--cfg-options ...`` that point a quick-start config at ``data_dir`` and shrink its model and schedule.

    Args:
        data_dir (str): A folder written by :func:`make_tiny_synthetic`.
        max_epochs (int): Training epochs. Defaults to 2.
        batch_size (int): Batch size of every loader. Defaults to 6.
        model_options (Sequence[str]): Options that shrink the model. Defaults to those of the tiny 3D ResNet.

    Returns:
        list[str]: Command-line arguments for ``tools/train.py`` or ``tools/test.py``.
    """
    videos = osp.join(data_dir, 'videos')
    options = list(model_options) + [
        f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1',
        f'param_scheduler.1.T_max={max(max_epochs - 1, 1)}', f'param_scheduler.1.end={max(max_epochs, 2)}',
        'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1'
    ]
    for split in ('train', 'val', 'test'):
        options += [
            f'{split}_dataloader.dataset.ann_file={data_dir}/synthetic_{split}_list_videos.txt',
            f'{split}_dataloader.dataset.class_names={data_dir}/label_map.txt',
            f'{split}_dataloader.dataset.data_prefix.video={videos}', f'{split}_dataloader.batch_size={batch_size}',
            f'{split}_dataloader.num_workers=0', f'{split}_dataloader.persistent_workers=False'
        ]
    return ['--cfg-options'] + options


def run_tool(args: List[str],
             env: Optional[Dict[str, str]] = None,
             timeout: int = 600,
             check: bool = True,
             cwd: str = REPO_ROOT) -> subprocess.CompletedProcess:
    """Run a command (from the repository root by default) with videoalign importable and one thread per process.

    Args:
        args (list[str]): The command; a leading ``'python'`` is replaced by the running interpreter.
        env (dict, optional): Extra environment variables. Defaults to None.
        timeout (int): Seconds before the command is killed. Defaults to 600.
        check (bool): Raise ``AssertionError`` with the tail of the output if the command fails. Defaults to True.
        cwd (str): The working directory. Defaults to the repository root.

    Returns:
        subprocess.CompletedProcess: The finished process, with ``stdout`` and ``stderr`` as text.
    """
    if args and args[0] == 'python':
        args = [sys.executable] + list(args[1:])
    full_env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    full_env.update(env or {})
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, encoding='utf-8', errors='replace', timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(args)} exited with {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}'
                             f'\n--- stderr\n{proc.stderr[-6000:]}')
    return proc


def free_port() -> int:
    """A TCP port on the loopback interface that no process listens on now (for a launcher's rendezvous)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def launcher_env() -> Dict[str, str]:
    """The environment for ``tools/dist_*.sh`` in a test: this interpreter, a free port, one thread per rank and
    videoalign importable.

    Returns:
        dict[str, str]: The environment.
    """
    return dict(
        os.environ,
        PYTHON=sys.executable,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
