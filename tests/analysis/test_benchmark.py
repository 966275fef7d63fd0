"""tools/analysis/benchmark.py and videoalign.analysis.benchmark on the tiny quick-start models (no timing is
asserted: only that every figure is there, finite and positive)."""
import importlib.util
import json
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from videoalign.analysis import benchmark as bench
from videoalign.testing import (R3D_CONFIG, R3D_TINY_OPTIONS, REPO_ROOT, XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS,
                                run_tool)

_spec = importlib.util.spec_from_file_location('benchmark_tool', osp.join(REPO_ROOT, 'tools', 'analysis',
                                                                          'benchmark.py'))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

FAST = ['--iters', '2', '--warmup', '1', '--matmul-size', '128']
POSITIVE = ('ms', 'min_ms', 'cpu_use', 'clips_per_s', 'gflops_per_clip', 'flop_per_iter', 'tflops', 'reference_tflops',
            'mfu', 'peak_mib', 'speedup')


def _check_row(row: dict) -> None:
    for key in POSITIVE:
        assert math.isfinite(row[key]) and row[key] > 0, (key, row[key])
    assert math.isfinite(row['increase_mib']) and row['increase_mib'] >= 0
    assert len(row['times_ms']) == row['iters']
    assert row['min_ms'] == min(row['times_ms']) <= row['ms'] <= max(row['times_ms'])
    assert row['dtype'] == ('bfloat16' if row['amp'] else 'float32')
    factor = 3 if row['mode'] == 'train' else 1
    assert row['flop_per_iter'] == 2 * round(row['gflops_per_clip'] * 1e9) * row['batch_size'] * factor


def test_both_modes_compare_amp(tmp_path, capsys):
    out = str(tmp_path / 'bench.json')
    returned = tool.main([R3D_CONFIG, '--shape', '4', '32', '32', '--compare', 'amp', '--json', out] + FAST +
                         ['--cfg-options'] + R3D_TINY_OPTIONS)
    with open(out) as f:
        results = json.load(f)
    assert results['rows'] == json.loads(json.dumps(returned['rows']))
    assert [(row['mode'], row['setting']) for row in results['rows']] == [('inference', 'fp32'), ('train', 'fp32'),
                                                                          ('inference', 'amp'), ('train', 'amp')]
    for row in results['rows']:
        _check_row(row)
        assert row['shape'] == [4, 32, 32] and row['input_shape'] == [1, 1, 3, 4, 32, 32]
        assert row['model'] == 'Recognizer3D' and row['config_name'] == 'r3d-tiny-8f_synthetic'
    assert results['rows'][0]['speedup'] == results['rows'][1]['speedup'] == 1.0  # the baselines
    assert set(results['reference']) == {'fp32', 'amp'} and results['reference']['amp']['dtype'] == 'bfloat16'
    for ref in results['reference'].values():  # the faster of the measurements before and after the runs
        assert ref['tflops'] == max(ref['start']['tflops'], ref['end']['tflops']) > 0
    machine = results['machine']
    assert machine['cpu_capability'] and machine['threads'] >= 1 and set(machine['cpu_flags']) == set(bench.CPU_FLAGS)
    stdout = capsys.readouterr().out
    assert 'AMX (amx_tile, amx_bf16)' in stdout and 'reference: 128x128 matmul in bfloat16' in stdout
    table = stdout[stdout.index('config '):].splitlines()
    assert 'speed-up' in table[0] and 'MFU' in table[0]
    assert [line.split()[1:3] for line in table[2:6]] == [['inference', 'fp32'], ['train', 'fp32'],
                                                          ['inference', 'amp'], ['train', 'amp']]


def test_text_head_and_second_config(capsys):
    """X-CLIP's text head gets placeholder class names (no label map); --compare-config adds a second config."""
    results = tool.main([XCLIP_QUICKSTART_CONFIG, '--compare-config', XCLIP_QUICKSTART_CONFIG, '--batch-size', '2'] +
                        FAST + ['--cfg-options', 'test_dataloader.dataset.class_names=None'] + XCLIP_TINY_OPTIONS)
    assert 'placeholder class names' in capsys.readouterr().out
    rows = results['rows']
    assert [(row['config_name'], row['mode']) for row in rows] == [('xclip-tiny-8f_synthetic', 'inference'),
                                                                   ('xclip-tiny-8f_synthetic', 'train')] * 2
    for row in rows:
        _check_row(row)
        assert row['model'] == 'VideoRecognizer' and row['shape'] == [8, 56, 56] and row['batch_size'] == 2


def test_settings():
    assert tool.settings_to_run(None, (False, False)) == [(False, False)]
    assert tool.settings_to_run(['amp'], (False, True)) == [(False, True), (True, True)]
    assert tool.settings_to_run(['compile'], (True, False)) == [(True, False), (True, True)]
    assert tool.settings_to_run(['fp32', 'amp', 'amp+compile'], (False, False)) == [(False, False), (True, False),
                                                                                    (True, True)]
    assert [tool.setting_name(s) for s in [(False, False), (True, True)]] == ['fp32', 'amp+compile']
    with pytest.raises(ValueError, match="unknown setting 'fp16'"):
        tool.settings_to_run(['fp32', 'fp16'], (False, False))
    with pytest.raises(ValueError, match="'amp' conflicts with 'fp32'"):
        tool.settings_to_run(['fp32+amp', 'amp'], (False, False))
    with pytest.raises(ValueError, match='comes twice'):
        tool.settings_to_run(['fp32', 'eager'], (False, False))
    with pytest.raises(ValueError, match='two settings or more'):
        tool.settings_to_run(['fp32'], (False, False))


@pytest.mark.parametrize('args, message', [(['--compare', 'fast'], "unknown setting 'fast'"),
                                           (['--batch-size', '0'], '--batch-size 0'),
                                           (['--mode', 'eval'], "invalid choice: 'eval'")])
def test_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args([R3D_CONFIG] + args)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_refuses_other_models():
    with pytest.raises(TypeError, match='builds a Linear; the benchmark runs recognizers only'):
        bench.check_benchmarkable(nn.Linear(2, 2), 'some_config.py')


def test_optim_wrapper_cfg():
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3), accumulative_counts=4)))
    amp = bench.optim_wrapper_cfg(cfg, True, torch.device('cpu'))
    assert amp == dict(
        type='AmpOptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3),
        accumulative_counts=1,
        dtype='bfloat16',
        loss_scale=dict(enabled=False))
    fp32 = bench.optim_wrapper_cfg(Config(dict(optim_wrapper=amp)), False, torch.device('cpu'))
    assert fp32 == dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3), accumulative_counts=1)
    assert bench.optim_wrapper_cfg(Config(), False, torch.device('cpu'))['optimizer']['type'] == 'SGD'
    with pytest.raises(ValueError, match="'ApexOptimWrapper'"):
        bench.optim_wrapper_cfg(Config(dict(optim_wrapper=dict(type='ApexOptimWrapper'))), False, torch.device('cpu'))


def test_flop_rates_and_peak_memory():
    rates = bench.flop_rates(10**9, 4, 'train', 1000.0, 0.5)
    assert rates == dict(flop_per_iter=24 * 10**9, tflops=0.024, mfu=0.048)
    with bench.PeakMemory(torch.device('cpu')) as memory:
        block = torch.ones(32 * 2**20 // 4)  # 32 MiB, alive until the end of the block
    assert memory.increase >= 30 * 2**20 and memory.peak >= memory.start + memory.increase
    del block


def test_command_line():
    proc = run_tool(
        ['python', 'tools/analysis/benchmark.py', R3D_CONFIG, '--mode', 'inference', '--shape', '4', '32', '32'] +
        FAST + ['--cfg-options'] + R3D_TINY_OPTIONS)
    assert 'r3d-tiny-8f_synthetic  inference  fp32' in proc.stdout and 'MFU' in proc.stdout
