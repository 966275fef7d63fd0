"""The ALPRO retrieval flow through the command-line tools on a tiny synthetic set: tools/train.py trains the tiny
model with VTC + VTM, tools/test.py ranks with mmaction2's retrieval loop, and text-to-video R@1 beats chance."""
import os.path as osp
import re

from videoalign.testing import make_tiny_synthetic, run_tool

CONFIG = 'configs/alpro/timesformer-micro-bert-micro_synthetic-retrieval.py'


def _metrics(output: str, split: str) -> dict:
    line = [line for line in output.splitlines() if f'Epoch({split})' in line][-1]
    return {key: float(value) for key, value in re.findall(r'([it]2[it]/retrieval/\w+): ([\d.]+)', line)}


def test_train_then_test_beats_chance(tmp_path):
    # 4 clips of each of the 10 classes (two of each class's captions differ in colour and shape), 64 px
    data = make_tiny_synthetic(str(tmp_path / 'data'), per_class=(4, 1, 1), size=64)
    work = str(tmp_path / 'work')
    data_options = [f'model.tokenizer.vocab={data}/vocab.txt']
    for split in ('train', 'val', 'test'):
        data_options += [
            f'{split}_dataloader.dataset.data_prefix.video={data}/videos', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False'
        ]
    # the 40 training clips, ranked among themselves: does the model learn to align what it saw?
    captions = f'{data}/synthetic_train_captions.json'
    run_tool([
        'python', 'tools/train.py', CONFIG, '--work-dir', work, '--cfg-options', *data_options,
        f'train_dataloader.dataset.ann_file={captions}', f'val_dataloader.dataset.ann_file={captions}',
        'train_dataloader.batch_size=8', 'train_cfg.max_epochs=30', 'train_cfg.val_interval=30',
        'param_scheduler.1.end=30', 'optim_wrapper.optimizer.lr=1e-3', 'default_hooks.logger.interval=5'
    ])
    assert osp.isfile(osp.join(work, 'epoch_30.pth'))
    out = run_tool([
        'python', 'tools/test.py', CONFIG,
        osp.join(work, 'epoch_30.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *data_options, f'test_dataloader.dataset.ann_file={captions}',
        'model.inference.mode=lavis', 'model.inference.k=8'
    ])
    metrics = _metrics(out.stdout + out.stderr, 'test')
    assert set(metrics) == {f'{d}/retrieval/{m}' for d in ('t2i', 'i2t') for m in ('R1', 'R5', 'R10', 'MdR', 'MnR')}
    chance = 100 / 40  # R@1 of a random ranking of 40 videos, in %
    assert metrics['t2i/retrieval/R1'] >= 4 * chance, metrics
    assert metrics['t2i/retrieval/MdR'] < 20, metrics  # a random ranking's median is 20.5
