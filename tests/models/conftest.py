"""Fixtures of the model tests."""
from typing import List

import pytest
import torch
import torch.nn.functional as F


@pytest.fixture
def sdpa_calls(monkeypatch) -> List[torch.Size]:
    """The query shapes of the calls of ``F.scaled_dot_product_attention`` made after the fixture is set up (the
    calls still compute)."""
    calls = []
    sdpa = F.scaled_dot_product_attention

    def counted(query, *args, **kwargs):
        calls.append(query.shape)
        return sdpa(query, *args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', counted)
    return calls
