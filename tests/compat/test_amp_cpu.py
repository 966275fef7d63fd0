"""compat item 9: mmengine's AmpOptimWrapper trains in bf16 autocast on a CPU, without a loss scale."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper

from videoalign.compat import amp_cpu


def _wrapper(**kwargs) -> AmpOptimWrapper:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    return model, AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_bf16_step_on_cpu_with_clipping_and_state_round_trip():
    assert hasattr(AmpOptimWrapper.__init__, '__wrapped__')
    amp_cpu.allow_cpu_amp()  # idempotent: wrapped once
    assert not hasattr(AmpOptimWrapper.__init__.__wrapped__, '__wrapped__')
    model, wrapper = _wrapper(clip_grad=dict(max_norm=1e-3), loss_scale='dynamic')
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16 and wrapper.cast_dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).sum() * 100)
    step = (model.weight.detach() - before).norm()
    assert 0 < step <= 0.1 * 1e-3 * 1.01  # one SGD step of a gradient clipped to norm 1e-3, unscaled
    state = wrapper.state_dict()
    assert state['loss_scaler'] == {}
    _, other = _wrapper()
    other.load_state_dict(state)


def test_other_dtypes_are_refused_on_cpu():
    with pytest.raises(ValueError, match="dtype='float16'.*bfloat16 only"):
        _wrapper(dtype='float16')
    assert _wrapper(dtype='bfloat16')[1].cast_dtype == torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="the original succeeds where there is a GPU")
def test_with_an_accelerator_the_original_runs(monkeypatch):
    monkeypatch.setattr(amp_cpu, '_accelerator_available', lambda: True)
    with pytest.raises(AssertionError, match='only available training on gpu'):  # mmengine's own check, no GPU here
        _wrapper()
