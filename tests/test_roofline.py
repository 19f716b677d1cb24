"""The roofline: ceilings, a step's FLOPs and least bytes (its operator list), the crossover."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from devicelab.models import MLP, DeepMLP
from devicelab.operators import operator_list
from devicelab.overheads import count_step_ops, sweep_step_operators, utilization_sweep
from devicelab.roofline import Ceilings, measure_ceilings, tf32_enabled

# A device with round ceilings: 100 FLOP/s and 10 B/s, so the ridge is at 10 FLOP/byte.
TOY = Ceilings(device="toy", peak_flops_per_s=100.0, peak_bytes_per_s=10.0)


def course_shapes(device="meta", batch=120):
    with torch.device(device):
        torch.manual_seed(0)
        return MLP(10), torch.rand(batch, 4), torch.randint(0, 3, (batch,))


# -- ceilings ----------------------------------------------------------------------------------
def test_ridge_and_dict_round_trip():
    assert TOY.ridge_intensity == 10.0
    assert TOY.to_dict()["ridge_intensity"] == 10.0
    assert Ceilings.from_dict(TOY.to_dict()) == TOY


def _matmul_flops(n: int) -> int:
    """FLOPs of an ``n x n`` by ``n x n`` product, as torch's own counter counts them."""
    a = torch.rand(n, n)
    with FlopCounterMode(display=False) as counter:
        torch.mm(a, a)
    return counter.get_total_flops()


def test_measure_ceilings_on_cpu_small():
    ceilings = measure_ceilings("cpu", matmul_n=128, copy_bytes=2**20, min_run_time=0.01)
    assert ceilings.device == "cpu" and ceilings.dtype == "float32"
    assert ceilings.tf32 is False  # TF32 is a GPU tensor-core format
    assert ceilings.matmul_n == 128 and ceilings.copy_bytes == 2**20
    # the peaks are the work, counted independently, over the measured medians: the product's
    # FLOPs by FlopCounterMode, the copy's bytes by hand (1 MiB read and 1 MiB written)
    flops = _matmul_flops(128) / ceilings.matmul.median_s
    bandwidth = 2_097_152 / ceilings.copy.median_s
    assert ceilings.peak_flops_per_s == pytest.approx(flops)
    assert ceilings.peak_bytes_per_s == pytest.approx(bandwidth)
    assert ceilings.ridge_intensity == pytest.approx(flops / bandwidth)
    assert Ceilings.from_dict(ceilings.to_dict()) == ceilings


def test_the_ceilings_time_what_they_count():
    ceilings = measure_ceilings("cpu", matmul_n=64, copy_bytes=4096, min_run_time=0.01)
    assert ceilings.matmul.label == "64x64 torch.float32 matmul on cpu"
    assert ceilings.copy.label == "4,096 B copy on cpu"
    assert ceilings.peak_flops_per_s == pytest.approx(_matmul_flops(64) / ceilings.matmul.median_s)
    # 4,096 B read + 4,096 B written
    assert ceilings.peak_bytes_per_s == pytest.approx(8192 / ceilings.copy.median_s)


class _NewPrecisionAPI:
    """torch.backends.cuda.matmul once fp32_precision was set: the legacy flag raises."""

    def __init__(self, precision: str):
        self.fp32_precision = precision

    @property
    def allow_tf32(self):
        raise RuntimeError("mixing the legacy allow_tf32 flag and fp32_precision")


@pytest.mark.parametrize(
    ("matmul", "expected"),
    [(SimpleNamespace(allow_tf32=True), True), (SimpleNamespace(allow_tf32=False), False),
     (SimpleNamespace(allow_tf32=1), True),  # a truthy flag is reported as a bool
     (_NewPrecisionAPI("tf32"), True), (_NewPrecisionAPI("ieee"), False)],
)  # fmt: skip
def test_tf32_flag_follows_torchs_setting(monkeypatch, matmul, expected):
    monkeypatch.setattr(torch.backends.cuda, "matmul", matmul)
    assert tf32_enabled() is expected


@pytest.mark.parametrize("kwargs", [{"matmul_n": 0}, {"copy_bytes": -1}])
def test_measure_ceilings_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be positive"):
        measure_ceilings("cpu", min_run_time=0.01, **kwargs)


@pytest.mark.parametrize(("flops", "bandwidth"), [(0.0, 1.0), (1.0, -1.0), (float("nan"), 1.0)])
def test_ceilings_must_be_positive(flops, bandwidth):
    with pytest.raises(ValueError, match="must be positive"):
        Ceilings(device="x", peak_flops_per_s=flops, peak_bytes_per_s=bandwidth)


# -- counting: FLOPs and least bytes, from the operator list ----------------------------------
def test_training_step_flops_by_hand_and_against_flop_counter_mode():
    model, x, y = course_shapes()
    # forward: 2*120*(4*10 + 10*3); backward: fc2's input and weight gradients (2*120*10*3
    # each) and fc1's weight gradient (2*120*4*10); the input needs no gradient
    by_hand = 2 * 120 * (4 * 10 + 10 * 3) + 2 * (2 * 120 * 10 * 3) + 2 * 120 * 4 * 10
    assert operator_list(model, x, targets=y).flops == by_hand == 40_800
    real_model, real_x, real_y = course_shapes("cpu")
    with FlopCounterMode(display=False) as counter:  # an independent count, on real tensors
        F.cross_entropy(real_model(real_x), real_y).backward()
    assert operator_list(real_model, real_x, targets=real_y).flops == counter.get_total_flops()


def test_counting_leaves_the_model_untouched():
    model, x, y = course_shapes("cpu")
    before = [p.clone() for p in model.parameters()]
    operator_list(model, x, targets=y)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_inference_only_counts():
    model, x, _ = course_shapes()
    ops = operator_list(model, x, loss_fn=None)
    assert ops.flops == 2 * 120 * (4 * 10 + 10 * 3)
    params = (4 * 10 + 10 + 10 * 3 + 3) * 4
    # inputs and parameters read, the output written; nothing saved, no gradients
    assert ops.least_bytes == 120 * 4 * 4 + params + 120 * 3 * 4
    assert ops.least.saved_read == ops.least.gradients_written == 0


def test_least_bytes_by_hand():
    model, x, y = course_shapes()
    ops = operator_list(model, x, targets=y)
    least = ops.least
    params = (4 * 10 + 10 + 10 * 3 + 3) * 4  # 332 bytes of float32
    inputs, targets = 120 * 4 * 4, 120 * 8  # float32 features, int64 labels
    relu_out, log_probs = 120 * 10 * 4, 120 * 3 * 4
    total_weight = 4  # the float32 scalar nll_loss keeps for its backward
    assert least.inputs_read == inputs + targets
    assert least.parameters_read == least.gradients_written == params
    # saved by the forward: ReLU's output (for ReLU and fc2's weight gradient, once) and the
    # log-probabilities (for softmax and nll_loss, once)
    assert least.saved_written == relu_out + log_probs + total_weight
    # read by the backward: those, plus the inputs (fc1's weight gradient), fc2's weight (the
    # gradient passed to the ReLU) and the targets
    fc2_weight = 10 * 3 * 4
    assert least.saved_read == least.saved_written + inputs + fc2_weight + targets
    assert ops.least_bytes == 19_032
    # every operator's reads and writes are an upper bound on the same traffic
    assert ops.bytes > ops.least_bytes


def test_real_tensors_count_like_meta():
    (model, x, y), (real_model, real_x, real_y) = course_shapes("meta"), course_shapes("cpu")
    meta = operator_list(model, x, targets=y)
    real = operator_list(real_model, real_x, targets=real_y)
    assert (meta.flops, meta.least) == (real.flops, real.least)
    assert meta.traced_on == real.traced_on == "meta"  # a copy is traced on meta either way


def test_sweep_step_operators_and_intensity():
    ops = sweep_step_operators(10, 120)
    assert (ops.flops, ops.least_bytes) == (40_800, 19_032)
    assert ops.intensity == pytest.approx(40_800 / 19_032)
    # 4-h-3: 7 multiply-adds per hidden activation, which must be stored and read back, so
    # the intensity levels off at a few FLOP/byte however wide or long the batch ...
    wide = [
        sweep_step_operators(h, b).intensity for h in (10, 1_000, 100_000) for b in (120, 10**6)
    ]
    assert max(wide) < 4.3
    # ... while the hidden-to-hidden layer's grows with the width
    deep = [sweep_step_operators(h, 1024, deep=True).intensity for h in (10, 100, 1_000, 10_000)]
    assert deep == sorted(deep) and deep[-1] > 100 * max(wide)


@pytest.mark.parametrize(("hidden", "batch"), [(0, 8), (10, -1)])
def test_sweep_step_operators_bad_sizes(hidden, batch):
    with pytest.raises(ValueError, match="must be positive"):
        sweep_step_operators(hidden, batch)


# -- the deep model ----------------------------------------------------------------------------
def test_deep_mlp_shapes():
    model = DeepMLP(16)
    assert [tuple(p.shape) for p in model.parameters()] == [(16, 4), (16,), (16, 16), (16,),
                                                            (3, 16), (3,)]  # fmt: skip
    assert model(torch.rand(5, 4)).shape == (5, 3)
    assert DeepMLP(8)(torch.rand(2, 4)).shape == (2, 3)
    with pytest.raises(ValueError, match="hidden must be a positive layer width"):
        DeepMLP(0)


def test_deep_sweep_and_op_count():
    points = utilization_sweep("cpu", hiddens=[8], batches=[16], min_run_time=0.01, deep=True)
    (point,) = points
    assert point.model == "DeepMLP"
    counts = sweep_step_operators(8, 16, deep=True)
    assert (point.flops, point.bytes_moved) == (counts.flops, counts.least_bytes)
    assert point.intensity == pytest.approx(counts.intensity)
    assert point.to_dict()["intensity"] == pytest.approx(counts.intensity)
    ops = count_step_ops("cpu", hidden=8, deep=True)
    assert ops.operators["aten::linear"] == 3
    assert ops.operator_calls > count_step_ops("cpu", hidden=8).operator_calls
