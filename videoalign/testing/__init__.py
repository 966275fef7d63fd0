"""Helpers for videoalign's tests and for tests of plugins built on it (as ``mmaction.testing``)."""
from ._utils import QUICKSTART_CONFIG, REPO_ROOT, make_tiny_synthetic, run_tool, tiny_run_options

__all__ = ['QUICKSTART_CONFIG', 'REPO_ROOT', 'make_tiny_synthetic', 'run_tool', 'tiny_run_options']
