"""Helpers for videoalign's tests and for tests of plugins built on it (as ``mmaction.testing``)."""
from ._utils import (QUICKSTART_CONFIG, QUICKSTART_TINY_OPTIONS, R3D_CONFIG, R3D_TINY_OPTIONS, REPO_ROOT,
                     XCLIP_QUICKSTART_CONFIG, XCLIP_TINY_OPTIONS, free_port, launcher_env, make_tiny_synthetic,
                     run_tool, tiny_run_options)
from .alpro import (TINY_ALPRO_TEST_PIPELINE, TINY_ALPRO_VISUAL, tiny_alpro_retrieval, tiny_alpro_text_encoder,
                    vocab_lines, write_tiny_alpro_config, write_vocab)
from .bevt import TINY_BEVT_BACKBONE, TINY_BEVT_HEAD, TINY_DALLE, tiny_bevt_batches, tiny_bevt_pretrainer

__all__ = [
    'QUICKSTART_CONFIG', 'QUICKSTART_TINY_OPTIONS', 'R3D_CONFIG', 'R3D_TINY_OPTIONS', 'XCLIP_QUICKSTART_CONFIG',
    'XCLIP_TINY_OPTIONS', 'REPO_ROOT', 'free_port', 'launcher_env', 'make_tiny_synthetic', 'run_tool',
    'tiny_run_options', 'TINY_BEVT_BACKBONE', 'TINY_ALPRO_VISUAL', 'TINY_ALPRO_TEST_PIPELINE', 'tiny_alpro_retrieval',
    'write_tiny_alpro_config', 'tiny_alpro_text_encoder', 'vocab_lines', 'write_vocab', 'TINY_BEVT_HEAD', 'TINY_DALLE',
    'tiny_bevt_pretrainer', 'tiny_bevt_batches'
]
