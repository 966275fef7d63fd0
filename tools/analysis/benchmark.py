"""Speed, peak memory and achieved FLOP/s (MFU) of a model: ``python tools/analysis/benchmark.py CONFIG [options]``.

The model is built from the config with random weights (as ``tools/analysis/get_flops.py`` builds it) and run on
``--batch-size`` random clips of one view each: T, H and W from the config's test (else val) pipeline, or ``--shape``.
Two modes (``--mode inference|train|both``, default both):

- inference: ``model.test_step(batch)`` in eval mode under ``torch.no_grad()``, what ``tools/test.py`` runs per
  batch (data preprocessor, then ``model(inputs, data_samples, mode='predict')``);
- train: ``model.train_step(batch, optim_wrapper)``, what ``tools/train.py`` runs per iteration (forward, loss,
  backward, optimizer step), with the optimizer wrapper of the config (``accumulative_counts`` set to 1).

``--warmup`` untimed iterations (default 2) come first, then ``--iters`` timed ones (default 5); the table gives the
median. Settings: ``--amp`` (autocast in bf16 on a CPU, bf16 or fp16 on a GPU; mmengine's ``AmpOptimWrapper`` for
training) and ``--compile`` (``torch.compile`` of the model's forward; the first warm-up iteration compiles).

Side by side in one run:

- ``--compare amp`` (= ``--compare fp32 amp``) runs fp32 and amp; ``--compare compile`` (= ``eager compile``) runs
  eager and compiled; or name the settings, a setting being ``fp32`` / ``amp`` and ``eager`` / ``compile``, joined
  with ``+``: ``--compare fp32 amp amp+compile``. What a setting leaves out comes from ``--amp`` / ``--compile``.
- ``--compare-config CONFIG_B [...]`` runs the same settings on other configs too (same ``--cfg-options``).

Columns: ``ms/iter`` (median) and ``min ms``, ``clips/s`` (batch / median), ``GFLOPs/clip`` (one view's forward,
fvcore convention: one multiply-add = one FLOP, as in the papers), ``TFLOP/s`` (achieved: 2 FLOPs per multiply-add, a
train step counted as 3 forward passes), ``ref TFLOP/s`` (the measured rate of a ``--matmul-size`` square matmul in
the row's precision, the faster of a measurement before and one after the runs), ``MFU`` (their ratio), ``peak MiB``
and ``+MiB`` (peak during the row and its increase over the row's start: sampled process RSS on a CPU,
``torch.cuda.max_memory_allocated`` on a GPU), ``CPU use`` (process CPU time over wall time x threads in the timed
iterations; a row below 90% is flagged, as other processes took the cores) and ``speed-up`` (the median of the first
row of the same mode over this row's). ``--json OUT`` writes everything as JSON. docs/benchmark.md has more.

Examples::

    python tools/analysis/benchmark.py configs/aim/vit-b16_k400.py --compare amp --batch-size 1 --iters 3
    python tools/analysis/benchmark.py configs/xclip/vit-b16-8f_k400.py --mode inference \\
        --compare-config configs/xclip/vit-b16-16f_k400.py --json work_dirs/xclip_speed.json

Models that are not recognizers (the ALPRO and BEVT pretrainers) are refused with a message naming their type.
"""
import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

import torch

try:
    import videoalign  # noqa: F401  (applies videoalign.compat before anything imports mmaction)
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    import videoalign  # noqa: F401
from videoalign.analysis import benchmark as bench
from videoalign.analysis.flops import DEFAULT_SHAPE, count_flops, shape_from_config, view_input_shape
from videoalign.utils.cli import DictAction, quiet_mmengine
from videoalign.utils.precision import amp_dtype

PRECISIONS = ('fp32', 'amp')
EXECUTIONS = ('eager', 'compile')
SHORTHANDS = {'amp': ['fp32', 'amp'], 'compile': ['eager', 'compile']}

Setting = Tuple[bool, bool]  # (amp, compile)
CONTENDED = 0.9  # CPU use below which a timing is flagged as disturbed by other processes


def setting_name(setting: Setting) -> str:
    """The name of a setting in the table.

    Args:
        setting (Setting): ``(amp, compile)``.

    Returns:
        str: ``'fp32'``, ``'amp'``, ``'fp32+compile'`` or ``'amp+compile'``.
    """
    amp, compiled = setting
    return ('amp' if amp else 'fp32') + ('+compile' if compiled else '')


def parse_setting(text: str, default: Setting) -> Setting:
    """A setting such as ``'amp'`` or ``'fp32+compile'``; what it leaves out comes from ``default``.

    Args:
        text (str): Words of :data:`PRECISIONS` and :data:`EXECUTIONS` joined with ``+``.
        default (Setting): ``(amp, compile)`` of ``--amp`` and ``--compile``.

    Returns:
        Setting: ``(amp, compile)``.
    """
    amp, compiled = default
    precision = execution = None
    for word in text.split('+'):
        if word in PRECISIONS and precision is None:
            precision = word
        elif word in EXECUTIONS and execution is None:
            execution = word
        elif word in PRECISIONS + EXECUTIONS:
            raise ValueError(f'--compare {text!r}: {word!r} conflicts with {precision or execution!r}')
        else:
            raise ValueError(f'--compare: unknown setting {word!r} in {text!r}; a setting is one of '
                             f'{", ".join(PRECISIONS + EXECUTIONS)} or several joined with "+" (e.g. amp+compile)')
    return (amp if precision is None else precision == 'amp', compiled if execution is None else execution == 'compile')


def settings_to_run(compare: Optional[List[str]], default: Setting) -> List[Setting]:
    """The settings of a run: ``default`` alone, or those of ``--compare`` (``amp``/``compile`` alone: both ways).

    Args:
        compare (list[str], optional): The words after ``--compare``.
        default (Setting): ``(amp, compile)`` of ``--amp`` and ``--compile``.

    Returns:
        list[Setting]: In order, without repeats (a repeat is a ``ValueError``).
    """
    if not compare:
        return [default]
    words = SHORTHANDS.get(compare[0], compare) if len(compare) == 1 else compare
    settings = [parse_setting(word, default) for word in words]
    if len(settings) < 2:
        raise ValueError(f'--compare {compare[0]}: name two settings or more (e.g. --compare fp32 amp), or amp or '
                         'compile alone for both ways')
    for i, setting in enumerate(settings):
        if setting in settings[:i]:
            raise ValueError(f'--compare {" ".join(compare)}: setting {setting_name(setting)} comes twice')
    return settings


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Time inference and train steps of a model; achieved FLOP/s, MFU')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--compare-config', nargs='+', default=[], metavar='CONFIG', help='more configs to run')
    parser.add_argument(
        '--compare',
        nargs='+',
        metavar='SETTING',
        help='settings side by side: amp (fp32 and amp), compile (eager and compile), or a list such as fp32 amp '
        'amp+compile')
    parser.add_argument('--mode', choices=['inference', 'train', 'both'], default='both', help='what to time')
    parser.add_argument('--amp', action='store_true', help='autocast (bf16 on a CPU or a GPU that has it, else fp16)')
    parser.add_argument('--compile', action='store_true', help="torch.compile the model's forward")
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('T', 'H', 'W'),
        help=f'frames, height and width of a clip; defaults to the test/val pipeline, else '
        f'{" ".join(map(str, DEFAULT_SHAPE))}')
    parser.add_argument('--batch-size', type=int, default=1, help='clips (one view each) per iteration')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations before the timed ones')
    parser.add_argument('--iters', type=int, default=5, help='timed iterations (the median is reported)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu', help='where the model runs')
    parser.add_argument(
        '--matmul-size', type=int, help='n of the n x n reference matmul; default 2048 on a CPU, 8192 on a GPU')
    parser.add_argument('--json', metavar='OUT', help='write the machine, the reference rates and the rows here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config(s), as key=value pairs; e.g. model.backbone.num_frames=16')
    args = parser.parse_args(argv)
    for name in ('batch_size', 'iters', 'matmul_size'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} {value}: must be at least 1')
    if args.warmup < 0:
        parser.error(f'--warmup {args.warmup}: must be at least 0')
    if args.shape and min(args.shape) < 1:
        parser.error(f'--shape {" ".join(map(str, args.shape))}: sizes must be positive')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch sees no CUDA device here')
    try:
        args.settings = settings_to_run(args.compare, (args.amp, args.compile))
    except ValueError as err:
        parser.error(str(err))
    return args


def run_config(config: str, args: argparse.Namespace, device: torch.device) -> List[Dict[str, Any]]:
    """Build the model of one config, count its FLOPs and time every setting and mode.

    Args:
        config (str): The config file.
        args (argparse.Namespace): The parsed command line.
        device (torch.device): Where the model runs.

    Returns:
        list[dict]: One row per setting and mode, without ``speedup``, ``tflops`` and ``mfu`` (:func:`main` adds
        them once the reference rates are final).
    """
    from mmengine.optim import build_optim_wrapper

    from videoalign.engine import load_config
    from videoalign.engine.hooks.label_check_hook import model_num_classes
    cfg = load_config(config, args.cfg_options)
    torch.manual_seed(0)
    model = bench.build_model(cfg)
    try:
        bench.check_benchmarkable(model, config)
    except TypeError as err:  # a model of another kind: an error message, not a traceback
        raise SystemExit(f'benchmark.py: error: {err}') from None
    model.to(device)
    shape = tuple(args.shape) if args.shape else shape_from_config(cfg)
    input_shape = view_input_shape(model, *shape)
    print(f'{config}: counting the FLOPs of one view {input_shape}', flush=True)
    macs = count_flops(model, input_shape)['flops']  # also computes what the model caches (class text embeddings)
    num_classes = model_num_classes(model) or cfg.get('num_classes', 1)
    batch = bench.make_batch(input_shape, args.batch_size, num_classes, device)
    modes = ['inference', 'train'] if args.mode == 'both' else [args.mode]
    rows = []
    for amp, compiled in args.settings:
        model._compiled_call_impl = None  # undo an earlier setting's compile
        if compiled:
            model.compile()
        for mode in modes:
            bench.release_memory(device)  # the row's RSS starts near what is in use, not what an earlier row freed
            optim_wrapper = None
            if mode == 'train':
                with quiet_mmengine():
                    optim_wrapper = build_optim_wrapper(model, bench.optim_wrapper_cfg(cfg, amp, device))
            name = setting_name((amp, compiled))
            print(f'{config}: {mode}, {name}, {args.warmup} + {args.iters} iterations', flush=True)
            result = bench.benchmark_step(model, batch, mode, device, amp, optim_wrapper, args.warmup, args.iters)
            result.update(
                config=config,
                config_name=os.path.splitext(os.path.basename(config))[0],
                model=type(model).__name__,
                mode=mode,
                setting=name,
                amp=amp,
                compile=compiled,
                dtype=str(amp_dtype(device) if amp else torch.float32).replace('torch.', ''),
                batch_size=args.batch_size,
                shape=list(shape),
                input_shape=list(input_shape),
                warmup=args.warmup,
                iters=args.iters,
                clips_per_s=args.batch_size / (result['ms'] / 1e3),
                macs_per_clip=macs,
                gflops_per_clip=macs / 1e9)
            rows.append(result)
            del optim_wrapper
    model._compiled_call_impl = None
    return rows


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Run the benchmark, print the table and write ``--json``.

    Args:
        argv (list[str], optional): The arguments; ``sys.argv[1:]`` if None.

    Returns:
        dict: ``machine``, ``reference`` (the matmul rates), ``rows`` and ``flop_convention``, as written to
        ``--json``.
    """
    args = parse_args(argv)
    device = torch.device(args.device)
    machine = bench.machine_info(device)
    print(bench.format_machine(machine), flush=True)
    size = args.matmul_size or (8192 if device.type == 'cuda' else 2048)
    dtypes = {False: torch.float32}
    if any(amp for amp, _ in args.settings):
        dtypes[True] = amp_dtype(device)
    before = {amp: bench.matmul_rate(device, dtype, size) for amp, dtype in dtypes.items()}
    for ref in before.values():
        print(
            f'reference: {ref["size"]}x{ref["size"]} matmul in {ref["dtype"]}: {ref["tflops"]:.3f} TFLOP/s '
            f'({ref["ms"]:.1f} ms, CPU use {ref["cpu_use"]:.0%}); measured again at the end',
            flush=True)
    rows = []
    for config in [args.config] + args.compare_config:
        rows += run_config(config, args, device)
        bench.release_memory(device)
    after = {amp: bench.matmul_rate(device, dtype, size) for amp, dtype in dtypes.items()}
    # the faster of the two measurements: the one less disturbed by other work on the machine
    reference = {amp: max(before[amp], after[amp], key=lambda ref: ref['tflops']) for amp in dtypes}
    for row in rows:
        first = next(other for other in rows if other['mode'] == row['mode'])
        row['speedup'] = first['ms'] / row['ms']
        ref = reference[row['amp']]
        row.update(bench.flop_rates(row['macs_per_clip'], row['batch_size'], row['mode'], row['ms'], ref['tflops']))
        row['reference_tflops'] = ref['tflops']
    print(bench.format_table(rows))
    for row in rows:
        if row['compile'] and row['warmup_ms']:
            print(f'{row["config_name"]} {row["mode"]} {row["setting"]}: the first warm-up iteration, which compiles, '
                  f'took {row["warmup_ms"][0] / 1e3:.1f} s')
    for amp, ref in reference.items():
        print(f'ref TFLOP/s: {ref["dtype"]} matmul, the faster of {before[amp]["tflops"]:.3f} (start) and '
              f'{after[amp]["tflops"]:.3f} (end)')
    if device.type == 'cpu':
        disturbed = [
            f'{row["config_name"]} {row["mode"]} {row["setting"]} ({row["cpu_use"]:.0%})'
            for row in rows if row['cpu_use'] < CONTENDED
        ] + [
            f'reference {ref["dtype"]} ({ref["cpu_use"]:.0%})'
            for ref in reference.values() if ref['cpu_use'] < CONTENDED
        ]
        if disturbed:
            print(f'WARNING: other processes took CPU time from: {", ".join(disturbed)}; those figures are too slow, '
                  'rerun them on a quiet machine')
    print(f'median of {args.iters} iterations after {args.warmup} warm-up; GFLOPs/clip: one view, one multiply-add '
          f'= 1 FLOP (fvcore); TFLOP/s: 2 FLOPs per multiply-add, train = {bench.TRAIN_FLOPS_FACTOR} x forward; '
          f'MFU = TFLOP/s / ref; memory: {rows[0]["memory"]}; CPU use: process CPU time / (wall time x '
          f'{torch.get_num_threads()} threads), low when other processes took the cores; speed-up vs the first row '
          'of the same mode')
    results = dict(
        machine=machine,
        reference={
            setting_name((amp, False)): dict(reference[amp], start=before[amp], end=after[amp])
            for amp in dtypes
        },
        rows=rows,
        flop_convention=dict(
            gflops_per_clip='multiply-adds of one view (fvcore)',
            tflops='2 FLOPs per multiply-add',
            train_factor=bench.TRAIN_FLOPS_FACTOR))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'results written to {args.json}')
    return results


if __name__ == '__main__':
    main()
