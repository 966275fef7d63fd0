"""Analysis of models: FLOPs and parameter counts (``tools/analysis/`` holds the command lines)."""
from .benchmark import build_model, machine_info, matmul_rate
from .flops import ELEMENTWISE_OPS, count_flops, format_report, shape_from_config, view_input_shape

__all__ = [
    'count_flops', 'format_report', 'shape_from_config', 'view_input_shape', 'ELEMENTWISE_OPS', 'build_model',
    'machine_info', 'matmul_rate'
]
