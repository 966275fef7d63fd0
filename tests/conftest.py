"""Shared fixtures."""
import pytest

from videoalign.testing import make_tiny_synthetic


@pytest.fixture(scope='session')
def tiny_synthetic(tmp_path_factory) -> str:
    """A synthetic dataset of 3 train, 2 val and 2 test clips per class, 16 frames of 32x32 (read-only: copy it
    before changing it)."""
    return make_tiny_synthetic(str(tmp_path_factory.mktemp('synthetic')))
