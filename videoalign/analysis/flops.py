"""Counting the FLOPs and parameters of a model (``tools/analysis/get_flops.py`` is its command line).

One view, a random clip of shape ``(1, 3, T, H, W)``, runs through backbone,
neck and head (``model(inputs, mode='tensor', stage='head')``), traced by mmengine's ``FlopAnalyzer``. T, H and W
default to the config's test (else val) pipeline: ``clip_len`` of the frame sampler and the crop size.

Counting convention (fvcore's, which mmengine follows and which the official X-CLIP and AIM numbers use): one fused
multiply-add is one FLOP; elementwise operations (additions, activations, softmax) are not counted. This tool adds
handles that mmengine lacks:

- ``aten::scaled_dot_product_attention`` (and its fused CUDA/CPU kernels): ``B·H·L·S·(E + Ev)``, i.e. ``q k^T`` and
  ``attn v`` (``2·B·H·L·L·d`` for self-attention);
- ``aten::_native_multi_head_attention`` (the inference fast path of ``nn.MultiheadAttention``): its input and output
  projections plus the two attention products. Counting also turns that fast path off, so that the projections are
  traced as ``aten::linear`` and the attention as ``aten::scaled_dot_product_attention``;
- ``aten::baddbmm`` (``nn.MultiheadAttention`` with ``need_weights=True`` and a mask).

Operators left uncounted are printed, with those that are not elementwise flagged, so nothing is silently missing.
"""
import math
from collections import Counter
from functools import partial
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import Config

from ..structures import VideoFeatures

DEFAULT_SHAPE = (8, 224, 224)
CROPS = ('CenterCrop', 'ThreeCrop', 'TenCrop')
# elementwise / reduction operators that the fvcore convention leaves uncounted on purpose
ELEMENTWISE_OPS = {
    'aten::' + name
    for name in ('add', 'add_', 'sub', 'sub_', 'rsub', 'mul', 'mul_', 'div', 'div_', 'neg', 'exp', 'log', 'pow', 'sqrt',
                 'rsqrt', 'reciprocal', 'abs', 'square', 'erf', 'sigmoid', 'sigmoid_', 'tanh', 'gelu', 'silu', 'silu_',
                 'hardswish', 'softplus', 'softmax', 'log_softmax', 'mean', 'sum', 'norm', 'linalg_vector_norm',
                 'frobenius_norm', 'clamp_min', 'where', 'lt', 'le', 'ne', 'argmax', 'topk', 'sort', 'masked_fill_',
                 'fill_', 'zero_', 'zeros', 'zeros_like', 'ones_like', 'new_ones', 'scalar_tensor', 'bernoulli_',
                 'native_dropout', 'feature_dropout', 'unflatten', 'type_as', 'to', 'float', 'repeat', 'stack',
                 'unbind', 'alias', 'view_as', 'expand_as', 'broadcast_to', 'detach_', 'embedding', 'avg_pool2d',
                 'avg_pool3d', 'max_pool2d', 'max_pool3d', 'adaptive_avg_pool1d', 'adaptive_avg_pool3d')
}
SDPA_OPS = ('aten::scaled_dot_product_attention', 'aten::_scaled_dot_product_flash_attention',
            'aten::_scaled_dot_product_flash_attention_for_cpu', 'aten::_scaled_dot_product_efficient_attention',
            'aten::_scaled_dot_product_cudnn_attention')


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of scaled-dot-product attention: ``q k^T`` plus ``attn v``, one multiply-add each."""
    q_shape, k_shape, v_shape = (get_shape(value) for value in inputs[:3])
    batch = math.prod(torch.broadcast_shapes(tuple(q_shape[:-2]), tuple(k_shape[:-2])))
    length, dims = q_shape[-2:]
    return batch * length * k_shape[-2] * (dims + v_shape[-1])


def native_mha_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``aten::_native_multi_head_attention``: in-projections, the two attention products, out-projection."""
    q_shape, k_shape = get_shape(inputs[0]), get_shape(inputs[1])
    dims = q_shape[-1]
    batch = math.prod(q_shape[:-2])
    length, source = q_shape[-2], k_shape[-2]
    projections = batch * (length * dims * dims * 2 + source * dims * dims * 2)  # q and out; k and v
    return projections + batch * length * source * dims * 2


def baddbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``baddbmm(input, batch1, batch2)``: the batched product."""
    (n, c, t), d = get_shape(inputs[1]), get_shape(inputs[2])[-1]
    return n * c * t * d


def _tensors(output: Any) -> Iterator[torch.Tensor]:
    """The tensors of a (nested) model output, in order."""
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, (tuple, list)):
        for item in output:
            yield from _tensors(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _tensors(item)
    elif isinstance(output, VideoFeatures):  # the named outputs of backbones and necks
        yield from _tensors(output.to_dict())


def is_recognizer(model: nn.Module) -> bool:
    """Whether ``model`` is an mmaction2 recognizer (it has ``extract_feat`` and ``_forward(inputs, stage)``)."""
    return hasattr(model, 'extract_feat') and hasattr(model, '_forward')


def view_input_shape(model: nn.Module, num_frames: int, height: int, width: int) -> Tuple[int, ...]:
    """The input shape of one view for ``model``.

    Args:
        model (nn.Module): The model.
        num_frames (int): Frames per view ``T``.
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        tuple: ``(1, T, 3, H, W)`` for a 2D recognizer, ``(1, 1, 3, T, H, W)`` (batch, views, C, T, H, W) for another
        recognizer, ``(1, 3, T, H, W)`` for any other module.
    """
    if type(model).__name__ == 'Recognizer2D':
        return (1, num_frames, 3, height, width)
    if is_recognizer(model):
        return (1, 1, 3, num_frames, height, width)
    return (1, 3, num_frames, height, width)


def count_flops(model: nn.Module,
                input_shape: Sequence[int],
                stage: str = 'head',
                warmup: bool = True) -> Dict[str, Any]:
    """Count the FLOPs of one forward pass of ``model`` on a random input of ``input_shape``.

    An mmaction2 recognizer runs ``model(inputs, mode='tensor', stage=stage)``; any other module runs
    ``model(inputs)``. The model is put in eval mode and traced without gradients.

    Args:
        model (nn.Module): The model.
        input_shape (Sequence[int]): The full input shape, batch included (see :func:`view_input_shape`).
        stage (str): For a recognizer, the last stage to run: ``'backbone'``, ``'neck'`` or ``'head'``.
            Defaults to ``'head'``.
        warmup (bool): Run one forward pass before counting, so that what a model computes once and caches (the
            class text embeddings of a frozen text encoder) is not counted per view, as in the official X-CLIP
            figures. Defaults to True.

    Returns:
        dict: ``flops`` (int, multiply-adds), ``params`` and ``trainable_params`` (int), ``by_module`` (Counter of
        FLOPs per module name), ``by_operator`` (Counter), ``uncounted`` (Counter of operator calls without a
        handle), ``input_shape`` (tuple) and ``analyzer`` (the ``FlopAnalyzer``).
    """
    param = next(model.parameters(), None)
    inputs = torch.randn(tuple(input_shape), device=param.device if param is not None else 'cpu')
    if is_recognizer(model):
        if stage == 'head' and not getattr(model, 'with_cls_head', True):
            stage = 'neck'  # Recognizer3D returns nothing for stage='head' without a head
        run = partial(model._forward, stage=stage)
    else:
        run = model.forward

    def forward(x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(_tensors(run(x)))

    was_training = model.training
    fastpath = torch.backends.mha.get_fastpath_enabled()
    model.eval()
    model.forward = forward
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad():
            if warmup:
                model(inputs)
            analyzer = FlopAnalyzer(model, (inputs, ))
            for op in SDPA_OPS:
                analyzer.set_op_handle(op, sdpa_flop_jit)
            analyzer.set_op_handle('aten::_native_multi_head_attention', native_mha_flop_jit)
            analyzer.set_op_handle('aten::baddbmm', baddbmm_flop_jit)
            analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            flops = analyzer.total()
            result = dict(
                flops=flops,
                by_module=analyzer.by_module(),
                by_operator=analyzer.by_operator(),
                uncounted=analyzer.unsupported_ops())
    finally:
        del model.forward
        torch.backends.mha.set_fastpath_enabled(fastpath)
        model.train(was_training)
    params = list(model.parameters())
    result.update(
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        input_shape=tuple(input_shape),
        analyzer=analyzer)
    return result


def _pipeline(cfg: Config) -> list:
    """The test pipeline of ``cfg``, else its val pipeline, else an empty list."""
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = cfg.get(key, {}).get('dataset', {}) if isinstance(cfg.get(key), dict) else {}
        while isinstance(dataset, dict) and 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']  # wrappers such as RepeatDataset
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            return list(dataset['pipeline'])
    for key in ('test_pipeline', 'val_pipeline'):
        if cfg.get(key):
            return list(cfg[key])
    return []


def shape_from_config(cfg: Config) -> Tuple[int, int, int]:
    """``(T, H, W)`` of one view from the config's test/val pipeline; :data:`DEFAULT_SHAPE` for what is missing.

    T is the frames per view of the sampler: its ``clip_len`` (``SampleFrames``, ``UniformSample``, ...) or
    ``num_segments`` (``MultiViewSegmentSample``). H and W are the size set by the last crop (``CenterCrop``/
    ``ThreeCrop``/``TenCrop``) or ``Resize`` with ``keep_ratio=False``.

    Args:
        cfg (Config): The config.

    Returns:
        tuple: ``(T, H, W)``.
    """
    num_frames, height, width = DEFAULT_SHAPE
    size = None
    for transform in _pipeline(cfg):
        kind = transform.get('type')
        frames = transform.get('clip_len', transform.get('num_segments'))
        if isinstance(frames, int):
            num_frames = frames
        elif kind in CROPS and transform.get('crop_size') is not None:
            size = transform['crop_size']
        elif kind == 'Resize' and transform.get('keep_ratio') is False:
            size = transform.get('scale')  # the last crop or fixed-size resize sets the size
    if isinstance(size, int):
        height = width = size
    elif isinstance(size, (tuple, list)) and len(size) == 2 and min(size) > 0:
        width, height = size  # mmaction2 sizes are (w, h)
    return num_frames, height, width


def _giga(num: int) -> str:
    """``num`` in billions: two decimals, or three significant digits below 1."""
    return f'{num / 1e9:.2f}' if num >= 1e9 else f'{num / 1e9:.3g}'


def _millions(num: int) -> str:
    """``num`` in millions, e.g. ``'86.19M'``."""
    return f'{num / 1e6:.2f}M'


def format_report(result: Dict[str, Any], max_depth: int = 3, show_table: bool = True) -> str:
    """The printed report: the per-module table, then the totals and the uncounted operators."""
    lines = []
    if show_table:
        lines.append(complexity_stats_table(flops=result['analyzer'], max_depth=max_depth, show_param_shapes=False))
    split = '=' * 60
    lines += [
        split,
        f'Input shape: {result["input_shape"]} (one view)',
        f'Flops: {_giga(result["flops"])} GFLOPs per view (one multiply-add = one FLOP, fvcore convention)',
        f'Params: {_millions(result["params"])} ({result["params"]:,})',
        f'Trainable params: {_millions(result["trainable_params"])} ({result["trainable_params"]:,}; '
        'requires_grad after building the model)',
    ]
    uncounted: Counter = result['uncounted']
    missing = {op: n for op, n in uncounted.items() if op not in ELEMENTWISE_OPS}
    negligible = {op: n for op, n in uncounted.items() if op in ELEMENTWISE_OPS}
    if negligible:
        lines.append('Not counted, elementwise by convention: ' + ', '.join(f'{op} x{n}'
                                                                            for op, n in sorted(negligible.items())))
    lines.append('Not counted, NO HANDLE (check these): ' +
                 (', '.join(f'{op} x{n}' for op, n in sorted(missing.items())) if missing else 'none'))
    lines.append(split)
    return '\n'.join(lines)
