"""Speed, memory and achieved FLOP/s of a model (``tools/analysis/benchmark.py`` is its command line).

What one iteration is:

- **inference**: ``model.test_step(batch)`` in eval mode under ``torch.no_grad()``, the call that mmengine's
  ``TestLoop`` (``tools/test.py``) makes per batch: the data preprocessor (uint8 clips to normalised floats) then
  ``model(inputs, data_samples, mode='predict')`` (backbone, neck, head and the head's averaging of the views);
- **train**: ``model.train_step(batch, optim_wrapper)`` in train mode, the call of mmengine's ``IterBasedTrainLoop``
  and ``EpochBasedTrainLoop`` (``tools/train.py``): preprocessing, forward with the loss, backward, the optimizer step.

A batch is ``batch_size`` random uint8 clips of one view each, already on the device (no loading, decoding or host
to device copy is timed). ``amp`` runs inference under :func:`videoalign.utils.precision.autocast` and trains with
mmengine's ``AmpOptimWrapper``, in :func:`~videoalign.utils.precision.amp_dtype` (bf16 on a CPU, bf16 or fp16 on a
GPU). ``compile`` compiles the model's forward with ``torch.compile`` (``nn.Module.compile``); the data preprocessor,
the loss reduction and the optimizer step stay eager.

FLOPs follow :mod:`videoalign.analysis.flops` (fvcore: one multiply-add is one "FLOP"); achieved FLOP/s count a
multiply-add as 2 FLOPs, as the matmul rates do (``2 n^3`` per ``n x n`` product), so that their ratio, the MFU, is
consistent. A train step is counted as 3 forward passes (forward, plus backward for activations and weights).
"""
import ctypes
import gc
import os
import statistics
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import Config

from ..utils.precision import amp_optim_wrapper, autocast
from .flops import is_recognizer

TRAIN_FLOPS_FACTOR = 3  # forward + backward (activation and weight gradients)
CPU_FLAGS = ('amx_tile', 'amx_bf16', 'avx512_bf16', 'avx512f')
MIB = 2**20


def build_model(cfg: Config, log: Callable[[str], None] = print) -> nn.Module:
    """Build the model of a config as the analysis tools do, with class names for a text-classifier head.

    A head with ``set_class_names`` (the text heads) gets the names of the test set's label map when that file is
    here, else ``num_classes`` placeholder names (their number is what the cost depends on).

    Args:
        cfg (Config): The merged config.
        log (Callable[[str], None]): Where to report placeholder class names. Defaults to ``print``.

    Returns:
        nn.Module: The model, with random weights (``init_weights`` is not called: no checkpoint is read).
    """
    from videoalign.datasets.class_names import resolve_class_names
    from videoalign.registry import MODELS
    from videoalign.utils import register_all_modules

    register_all_modules()
    model = MODELS.build(cfg.model)
    head = getattr(model, 'cls_head', None)
    if hasattr(head, 'set_class_names'):  # the cost of a text-classifier head depends on the number of classes
        names = ((cfg.get('test_dataloader') or {}).get('dataset') or {}).get('class_names')
        if isinstance(names, (list, tuple)) or (isinstance(names, str) and os.path.isfile(names)):
            head.set_class_names(resolve_class_names(names))
        else:
            num_classes = cfg.get('num_classes')
            if not isinstance(num_classes, int) or num_classes < 1:
                raise ValueError(f'{type(head).__name__} needs class names: the label map {names} is not here and the '
                                 'config has no num_classes; pass --cfg-options num_classes=N')
            log(f'using {num_classes} placeholder class names (the num_classes of the config; the label map '
                f'{names} is not here)')
            head.set_class_names([f'class {i}' for i in range(num_classes)])
    return model


def check_benchmarkable(model: nn.Module, config: str) -> None:
    """Raise ``TypeError`` naming the model type unless ``model`` is a recognizer (``test_step``/``train_step``
    with ``ActionDataSample`` labels).

    Args:
        model (nn.Module): The model.
        config (str): The config it came from, for the message.
    """
    if not is_recognizer(model):
        raise TypeError(f'{config} builds a {type(model).__name__}; the benchmark runs recognizers only (Recognizer2D, '
                        'Recognizer3D, VideoRecognizer), whose batches are labelled clips. Use '
                        'tools/analysis/get_flops.py for the FLOPs of other models')


def make_batch(input_shape: Sequence[int],
               batch_size: int,
               num_classes: int,
               device: torch.device,
               seed: int = 0) -> Dict[str, list]:
    """A batch as the data loader makes it: ``batch_size`` random uint8 clips and labelled data samples.

    Args:
        input_shape (Sequence[int]): The shape of one view with a leading batch dimension of 1, from
            :func:`~videoalign.analysis.flops.view_input_shape`; each clip has ``input_shape[1:]``.
        batch_size (int): Clips in the batch.
        num_classes (int): Labels are ``i % num_classes``.
        device (torch.device): Where the clips are put (the data preprocessor then finds them there).
        seed (int): Seed of the random clips. Defaults to 0.

    Returns:
        dict: ``inputs`` (list of uint8 tensors) and ``data_samples`` (list of ``ActionDataSample``).
    """
    from mmaction.structures import ActionDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, tuple(input_shape[1:]), generator=gen, dtype=torch.uint8).to(device)
        for _ in range(batch_size)
    ]
    samples = [ActionDataSample().set_gt_label(i % max(num_classes, 1)) for i in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)


def _cpu_model_and_flags() -> Dict[str, Any]:
    """The CPU model name and the flags of :data:`CPU_FLAGS` from ``/proc/cpuinfo`` (unknown elsewhere)."""
    name, flags = 'unknown', set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() == 'model name' and name == 'unknown':
                    name = value.strip()
                elif key.strip() == 'flags' and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return dict(cpu=name, cpu_flags={flag: flag in flags for flag in CPU_FLAGS})


def machine_info(device: torch.device) -> Dict[str, Any]:
    """What the numbers depend on: CPU (model, AMX / AVX-512 bf16 flags, torch's CPU capability, threads) or GPU.

    Args:
        device (torch.device): The device the model runs on.

    Returns:
        dict: ``torch``, ``device``, ``cpu``, ``cpu_flags``, ``cpu_capability``, ``threads``, ``cpu_count``,
        ``load_average`` (1 minute, at the start: other work on the machine skews the timings) and, on a GPU,
        ``gpu`` and ``float32_matmul_precision``.
    """
    info = dict(torch=torch.__version__, device=str(device), **_cpu_model_and_flags())
    info.update(
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
        load_average=os.getloadavg()[0] if hasattr(os, 'getloadavg') else None)
    if device.type == 'cuda':
        info.update(
            gpu=torch.cuda.get_device_name(device), float32_matmul_precision=torch.get_float32_matmul_precision())
    return info


def format_machine(info: Dict[str, Any]) -> str:
    """One or two lines that describe the machine of :func:`machine_info`."""
    flags = info['cpu_flags']
    yes = {True: 'yes', False: 'no'}
    amx = 'yes' if flags['amx_tile'] and flags['amx_bf16'] else 'NO'
    line = (f'CPU: {info["cpu"]}; AMX (amx_tile, amx_bf16): {amx}; avx512_bf16: {yes[flags["avx512_bf16"]]}; '
            f'torch CPU capability: {info["cpu_capability"]}; {info["threads"]} threads of {info["cpu_count"]} CPUs; '
            f'torch {info["torch"]}')
    if info.get('load_average') is not None:
        line += f'; load average {info["load_average"]:.2f}'
    if 'gpu' in info:
        line += f'\nGPU: {info["gpu"]} (float32 matmul precision: {info["float32_matmul_precision"]})'
    return line


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, dtype: torch.dtype, size: int = 2048, iters: int = 5) -> Dict[str, Any]:
    """The measured rate of an ``n x n`` matmul in ``dtype``: the reference of the MFU.

    Args:
        device (torch.device): The device.
        dtype (torch.dtype): The precision.
        size (int): ``n``. Defaults to 2048.
        iters (int): Timed products, after one untimed. Defaults to 5.

    Returns:
        dict: ``dtype`` (str), ``size``, ``ms`` (median per product), ``tflops`` (``2 n^3`` FLOPs over ``ms``) and
        ``cpu_use`` (see :func:`time_iterations`).
    """
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=gen).to(device=device, dtype=dtype) for _ in range(2))
    timing = time_iterations(lambda: torch.mm(a, b), device, warmup=1, iters=iters)
    ms = statistics.median(timing['times_ms'])
    return dict(
        dtype=str(dtype).replace('torch.', ''),
        size=size,
        ms=ms,
        tflops=2 * size**3 / (ms / 1e3) / 1e12,
        cpu_use=timing['cpu_use'])


def time_iterations(step: Callable[[], Any], device: torch.device, warmup: int, iters: int) -> Dict[str, Any]:
    """Run ``step`` ``warmup`` times untimed, then ``iters`` times timed one by one (synchronising a GPU).

    Args:
        step (Callable[[], Any]): One iteration.
        device (torch.device): Its device.
        warmup (int): Untimed iterations first.
        iters (int): Timed iterations.

    Returns:
        dict: ``warmup_ms`` and ``times_ms`` (lists of milliseconds per iteration) and ``cpu_use``: the CPU time of
        this process during the timed iterations over their wall time times ``torch.get_num_threads()``. Near 1
        when the threads had their cores; clearly lower when other processes took them (the timings are then too
        slow).
    """
    warmup_ms, times_ms = [], []
    cpu_start = None
    for i in range(warmup + iters):
        if i == warmup:
            cpu_start = time.process_time()
        _synchronize(device)
        start = time.perf_counter()
        step()
        _synchronize(device)
        (warmup_ms if i < warmup else times_ms).append((time.perf_counter() - start) * 1e3)
    cpu_use = (time.process_time() - cpu_start) / (sum(times_ms) / 1e3 * torch.get_num_threads()) if times_ms else 0.
    return dict(warmup_ms=warmup_ms, times_ms=times_ms, cpu_use=cpu_use)


def _rss_bytes() -> Optional[int]:
    """The resident set size of this process now (Linux ``/proc/self/statm``), None where unavailable."""
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return None


class PeakMemory:
    """The peak memory while the ``with`` block runs, and its increase over the start.

    On a GPU: ``torch.cuda.max_memory_allocated`` (tensors only, after ``reset_peak_memory_stats``). On a CPU: the
    process RSS sampled every ``interval`` seconds by a thread (``ru_maxrss`` is the maximum over the whole process
    life, so it cannot tell one run from the previous one). Memory freed before the block and reused in it is not
    part of the increase.

    Args:
        device (torch.device): The device the model runs on.
        interval (float): Sampling period on a CPU, in seconds. Defaults to 0.005.
    """

    def __init__(self, device: torch.device, interval: float = 0.005) -> None:
        self.device = device
        self.interval = interval
        self.kind = 'cuda max_memory_allocated' if device.type == 'cuda' else 'process RSS, sampled'
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes() or 0)

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
        else:
            self.start = self.peak = _rss_bytes() or 0
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.device.type == 'cuda':
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss_bytes() or 0)

    @property
    def increase(self) -> int:
        """Bytes of the peak above the start."""
        return max(self.peak - self.start, 0)


def release_memory(device: torch.device) -> None:
    """Free what the previous run left: garbage, the CUDA cache, and on glibc the freed heap (``malloc_trim``), so
    that the next run's RSS starts near what is still in use.

    Args:
        device (torch.device): The device the model runs on.
    """
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def optim_wrapper_cfg(cfg: Config, amp: bool, device: torch.device) -> dict:
    """The config's ``optim_wrapper`` for one benchmarked train step per iteration, in fp32 or amp.

    ``accumulative_counts`` is set to 1 (each timed step includes the optimizer step). With ``amp``, an
    ``OptimWrapper`` becomes an ``AmpOptimWrapper`` in :func:`~videoalign.utils.precision.amp_dtype` (a dynamic
    loss scale in fp16, none in bf16), as ``tools/train.py --amp`` does; without, an ``AmpOptimWrapper`` of the
    config becomes an ``OptimWrapper``. A config without ``optim_wrapper`` gets SGD (lr 1e-3).

    Args:
        cfg (Config): The config.
        amp (bool): Mixed precision.
        device (torch.device): The device.

    Returns:
        dict: The ``optim_wrapper`` config for mmengine's ``build_optim_wrapper``.
    """
    wrapper = dict(cfg.get('optim_wrapper') or dict(optimizer=dict(type='SGD', lr=1e-3)))
    kind = wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise ValueError(f'optim_wrapper.type {kind!r}: the benchmark supports OptimWrapper and AmpOptimWrapper')
    wrapper['accumulative_counts'] = 1
    if amp:
        wrapper = amp_optim_wrapper(wrapper, device)
    else:
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
        wrapper['type'] = 'OptimWrapper'
    return wrapper


def benchmark_step(model: nn.Module,
                   batch: Dict[str, list],
                   mode: str,
                   device: torch.device,
                   amp: bool = False,
                   optim_wrapper: Any = None,
                   warmup: int = 2,
                   iters: int = 5) -> Dict[str, Any]:
    """Time ``iters`` inference or train iterations of ``model`` on ``batch`` and measure the peak memory.

    Args:
        model (nn.Module): The model, on ``device`` (compiled or not).
        batch (dict): From :func:`make_batch`.
        mode (str): ``'inference'`` (``test_step`` in eval mode without gradients, under autocast if ``amp``) or
            ``'train'`` (``train_step`` in train mode; ``optim_wrapper`` sets the precision).
        device (torch.device): The device.
        amp (bool): Autocast the inference. Defaults to False.
        optim_wrapper (OptimWrapper, optional): For ``'train'``.
        warmup (int): Untimed iterations first. Defaults to 2.
        iters (int): Timed iterations. Defaults to 5.

    Returns:
        dict: ``ms`` (median), ``min_ms``, ``times_ms``, ``warmup_ms``, ``cpu_use`` (see :func:`time_iterations`),
        ``peak_mib``, ``increase_mib`` and ``memory`` (what the memory figures are).
    """
    if mode == 'inference':
        model.eval()

        def step() -> Any:
            with torch.no_grad(), autocast(device, amp):
                return model.test_step(batch)
    elif mode == 'train':
        if optim_wrapper is None:
            raise ValueError("mode 'train' needs an optim_wrapper")
        model.train()

        def step() -> Any:
            return model.train_step(batch, optim_wrapper)
    else:
        raise ValueError(f"mode {mode!r}: expected 'inference' or 'train'")
    with PeakMemory(device) as memory:
        timing = time_iterations(step, device, warmup, iters)
    return dict(
        ms=statistics.median(timing['times_ms']),
        min_ms=min(timing['times_ms']),
        **timing,
        peak_mib=memory.peak / MIB,
        increase_mib=memory.increase / MIB,
        memory=memory.kind)


def flop_rates(macs_per_clip: int, batch_size: int, mode: str, ms: float, reference_tflops: float) -> Dict[str, float]:
    """Achieved FLOP/s and MFU of one row.

    Args:
        macs_per_clip (int): Multiply-adds of one view's forward pass (``count_flops``'s "FLOPs").
        batch_size (int): Clips per iteration.
        mode (str): ``'inference'`` (one forward) or ``'train'`` (:data:`TRAIN_FLOPS_FACTOR` forwards).
        ms (float): Milliseconds per iteration.
        reference_tflops (float): The measured matmul rate in the same precision.

    Returns:
        dict: ``flop_per_iter`` (2 FLOPs per multiply-add), ``tflops`` (achieved) and ``mfu`` (their ratio to the
        reference).
    """
    factor = TRAIN_FLOPS_FACTOR if mode == 'train' else 1
    flop = 2 * macs_per_clip * batch_size * factor
    tflops = flop / (ms / 1e3) / 1e12
    return dict(flop_per_iter=flop, tflops=tflops, mfu=tflops / reference_tflops)


def _num(value: float) -> str:
    """Two decimals, or three significant digits below 1."""
    return f'{value:.2f}' if value >= 1 else f'{value:.3g}'


def format_table(rows: List[Dict[str, Any]]) -> str:
    """A plain-text table of the result rows of ``tools/analysis/benchmark.py``."""
    header = ('config', 'mode', 'setting', 'batch', 'T H W', 'ms/iter', 'min ms', 'clips/s', 'GFLOPs/clip', 'TFLOP/s',
              'ref TFLOP/s', 'MFU', 'peak MiB', '+MiB', 'CPU use', 'speed-up')
    lines = [header]
    for row in rows:
        lines.append(
            (row['config_name'], row['mode'], row['setting'], str(row['batch_size']), ' '.join(map(str, row['shape'])),
             f'{row["ms"]:.1f}', f'{row["min_ms"]:.1f}', _num(row['clips_per_s']), _num(row['gflops_per_clip']),
             _num(row['tflops']), _num(row['reference_tflops']), f'{row["mfu"]:.1%}', f'{row["peak_mib"]:.0f}',
             f'{row["increase_mib"]:.0f}', f'{row["cpu_use"]:.0%}', f'{row["speedup"]:.2f}x'))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ['  '.join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(text)
