"""devicelab.advise: the bound, the verdict, the prediction's arithmetic, bad input, the CLI."""

from __future__ import annotations

import copy
import json
from importlib import resources

import jsonschema
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from devicelab.__main__ import main
from devicelab.advise import (
    BOUNDS,
    REMEDIES,
    StepTerms,
    advise,
    decide,
    name_bound,
)
from devicelab.data import load_iris
from devicelab.explain import explain_step
from devicelab.models import MLP
from devicelab.operators import operator_list
from devicelab.results import load_results, recorded_results_dir
from devicelab.stats import Interval, Spread
from devicelab.timing import torch_threads

H100 = recorded_results_dir() / "nvidia-h100-80gb-hbm3.json"
ADVICE_SCHEMA = json.loads(
    resources.files("devicelab").joinpath("schema/advice-v2.schema.json").read_text("utf-8")
)


# -- the bound on synthetic terms --------------------------------------------------------------
@pytest.mark.parametrize(
    ("terms", "bound"),
    [
        (StepTerms(host_s=300e-6, sync_s=9e-6, memory_s=1e-6, compute_s=1e-7), BOUNDS[0]),
        (StepTerms(host_s=30e-6, sync_s=900e-6, memory_s=1e-6, compute_s=1e-7), BOUNDS[1]),
        (StepTerms(host_s=30e-6, sync_s=9e-6, memory_s=5e-3, compute_s=1e-3), BOUNDS[2]),
        (StepTerms(host_s=30e-6, sync_s=9e-6, memory_s=1e-3, compute_s=5e-3), BOUNDS[3]),
        # an unknown device term is left out, never taken as zero or as the winner
        (StepTerms(host_s=30e-6, sync_s=9e-6, memory_s=None, compute_s=None), BOUNDS[0]),
    ],
)
def test_each_bound_is_named_by_its_largest_term(terms, bound):
    assert name_bound(terms) == bound
    assert REMEDIES[bound]  # every bound has remedies to show


def test_a_negative_term_is_refused():
    with pytest.raises(ValueError, match="zero or more"):
        name_bound(StepTerms(host_s=-1.0, sync_s=0.0, memory_s=0.0, compute_s=0.0))


def test_verdict_picks_the_faster_spread_or_either_when_they_overlap():
    assert decide(Spread(1.5e-4, 1e-4, 2e-4), Spread(5.5e-4, 5e-4, 6e-4)) == "cpu"
    assert decide(Spread(5.5e-4, 5e-4, 6e-4), Spread(1.5e-4, 1e-4, 2e-4)) == "gpu"
    assert decide(Spread(2e-4, 1e-4, 3e-4), Spread(3e-4, 2e-4, 4e-4)) == "either"
    with pytest.raises(ValueError, match="low <= centre <= high"):
        Spread(1.5e-4, 2e-4, 1e-4)


def test_verdict_refuses_a_confidence_interval_where_a_spread_is_meant():
    with pytest.raises(TypeError, match="Spread"):
        decide(Interval(1.5e-4, 1e-4, 2e-4), Spread(5.5e-4, 5e-4, 6e-4))
    with pytest.raises(TypeError, match="Spread"):
        decide(Spread(1.5e-4, 1e-4, 2e-4), (5e-4, 6e-4))


# -- FLOP counts (the one count: the operator list advise reports and prices) ------------------
def test_a_linear_layers_flops_and_bytes_as_by_hand():
    # one Linear layer, batch 32, 64 in, 16 out: forward 2*b*in*out; the backward computes the
    # weight's gradient (another 2*b*in*out) but not the input's, which needs none
    batch, n_in, n_out = 32, 64, 16
    model, x = nn.Linear(n_in, n_out), torch.randn(batch, n_in)
    y = torch.randint(0, n_out, (batch,))
    assert operator_list(model, x, targets=y).flops == 2 * (2 * batch * n_in * n_out)
    inference = operator_list(model, x, loss_fn=None)
    assert inference.flops == 2 * batch * n_in * n_out
    # inference's least bytes: the input, the weight and the bias read, the output written
    weights = (n_in * n_out + n_out) * 4
    assert inference.least_bytes == (batch * n_in + batch * n_out) * 4 + weights


# -- advise end to end (one small model; the device's costs are measured once) ----------------
@pytest.fixture(scope="module")
def iris_advice():
    torch.manual_seed(0)
    x, y = torch.rand(120, 4), torch.randint(0, 3, (120,))
    model = MLP()
    before = copy.deepcopy(model.state_dict())
    advice = advise(model, x, targets=y, devices=["cpu"], batch_sizes=[120, 240])
    return advice, model, before, x, y


def test_advice_reports_the_cpu_and_predicts_the_recorded_gpu(iris_advice):
    advice, model, before, x, y = iris_advice
    cpu = advice.devices["cpu"]
    assert cpu.step_s > 0 and cpu.kernels is None and cpu.busy_share is None
    # forward 2*120*(4*10 + 10*3); backward: fc2's two gradients and fc1's weight gradient
    assert cpu.flops == 2 * 120 * (4 * 10 + 10 * 3) + 2 * (2 * 120 * 10 * 3) + 2 * 120 * 4 * 10
    assert cpu.predicted.flops == cpu.flops
    assert set(cpu.breakdown["parts"]) == {"forward", "loss", "backward", "optimizer", "sync"}
    assert cpu.bound in BOUNDS and advice.bound in BOUNDS
    assert advice.verdict in ("cpu", "gpu", "either")
    # the CPU was measured and predicted; the GPU predicted from the record, with its provenance
    assert advice.predicted is not None and advice.predicted.source == "record"
    assert "recorded on" in advice.predicted.provenance
    assert cpu.predicted.source == "measured" and cpu.bound == cpu.predicted.bound
    # the prediction is not its own input: the record's course step is not copied into it
    record = load_results(H100)
    course = next(r for r in record["measurements"]["training"]["runs"] if r["device"] == "cuda:0")
    assert advice.predicted.step_s != pytest.approx(course["epoch_time_s"], rel=1e-3)
    # the reader's model is neither moved nor trained
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert advice.batch_test["batches"] == [120, 240]
    assert set(advice.batch_test["winner"]) == {"120", "240"}
    assert all(any(ch.isdigit() for ch in reason) for reason in advice.reasons)
    assert advice.remedies["page"].endswith("plot_remedies.html")


def test_verdict_agrees_with_the_numbers_it_prints(iris_advice):
    advice = iris_advice[0]
    cpu, gpu = advice.devices["cpu"], advice.predicted
    # the rule, read off the printed ranges: a device wins when its whole range is below
    ranges = {"cpu": (cpu.spread.low, cpu.spread.high), "gpu": (gpu.spread.low, gpu.spread.high)}
    winners = [
        d for d, other in (("cpu", "gpu"), ("gpu", "cpu")) if ranges[d][1] < ranges[other][0]
    ]
    assert advice.verdict == (winners[0] if winners else "either"), ranges
    assert cpu.spread.kind == "iqr" and gpu.spread.kind == "prediction"


@pytest.mark.slow  # wall-clock: six rounds of advise() and explain_step()
def test_the_batch_test_times_the_same_step_as_the_breakdown():
    """At twice the batch, the batch test's step agrees with explain_step's within 0.7x to
    1.4x: the same full step (loss, backward, optimizer, loss.item()), the same clock.

    Not within 15%: the two keep different rounds (explain_step the middle half ranked with its
    parts, time_step the interquartile mean), and on a 2-core Zen 4 CI machine their least
    times differed by 20% with nothing else wrong. A step that lost its backward pass and
    optimizer (more than half of this step) still falls outside the band.

    Both are measured alternately, up to six times each, and their least times compared: a
    busy machine only ever adds time, so the least of each is its undisturbed step, and a
    burst of load that spoils one round is outlasted by the next.

    Both at one thread: beside one other busy process on a 2-core machine, a 2-thread step
    waits at every operator for its descheduled second thread, and the two measurements met
    that stall differently (least times 0.86 and 1.79 ms, a ratio of 0.48)."""
    torch.manual_seed(0)
    data = load_iris()
    model = MLP()
    batch_test, breakdown = [], []
    for _ in range(6):
        with torch_threads(1):
            advice = advise(model, data.X_train, targets=data.y_train, devices=["cpu"],
                            batch_sizes=[120, 240], gpu=None)  # fmt: skip
        point = next(p for p in advice.batch_test["points"]
                     if p["batch"] == 240 and not p["predicted"])  # fmt: skip
        batch_test.append(point["step_s"])
        x2 = data.X_train.repeat(2, 1)
        y2 = data.y_train.repeat(2)
        step = explain_step(copy.deepcopy(model), x2, targets=y2, steps=40, rounds=7, num_threads=1)
        breakdown.append(step.measured_s)
        ratio = min(batch_test) / min(breakdown)
        if len(batch_test) >= 3 and 0.7 <= ratio <= 1.4:
            break
    assert 0.7 <= ratio <= 1.4, (batch_test, breakdown)


def test_to_dict_validates_against_the_schema_and_is_json(iris_advice):
    data = iris_advice[0].to_dict()
    jsonschema.Draft202012Validator(ADVICE_SCHEMA).validate(data)
    assert json.loads(json.dumps(data)) == data


def test_inference_mode_has_no_loss_backward_or_optimizer():
    torch.manual_seed(0)
    advice = advise(MLP(), torch.rand(120, 4), loss_fn=None, devices=["cpu"],
                    batch_sizes=[120])  # fmt: skip
    assert advice.inference
    assert set(advice.devices["cpu"].breakdown["parts"]) == {"forward", "sync"}
    assert advice.reasons[0].startswith("Inference only")
    jsonschema.Draft202012Validator(ADVICE_SCHEMA).validate(advice.to_dict())


# -- bad input ---------------------------------------------------------------------------------
def test_every_bad_input_raises_a_clear_error():
    x, y = torch.rand(8, 4), torch.randint(0, 3, (8,))
    with pytest.raises(ValueError, match="meta.*put it on the CPU"):
        advise(MLP(), torch.empty(8, 4, device="meta"), targets=y, devices=["cpu"])
    with pytest.raises(RuntimeError, match=r"Linear raised on inputs of shape \(8, 4\)"):
        advise(nn.Linear(5, 3), x, targets=y, devices=["cpu"])
    with pytest.raises(ValueError, match="empty"):
        advise(nn.Sequential(), x, targets=y, devices=["cpu"])
    with pytest.raises(ValueError, match="at least 1"):
        advise(MLP(), x, targets=y, devices=["cpu"], batch_sizes=[8, 0])
    with pytest.raises(ValueError, match="unknown device"):
        advise(MLP(), x, targets=y, devices=["tpu"])
    cpu_record = copy.deepcopy(load_results(H100)) | {"device": "cpu"}
    with pytest.raises(ValueError, match="not a GPU"):
        advise(MLP(), x, targets=y, devices=["cpu"], gpu=cpu_record)
    with pytest.raises(ValueError, match="targets are required"):
        advise(MLP(), x, devices=["cpu"], loss_fn=F.cross_entropy)  # no targets: inference
    with pytest.raises(TypeError, match="nn.Module"):
        advise(lambda t: t, x, targets=y)


# -- the command line --------------------------------------------------------------------------
def test_cli_json_validates_against_the_schema(capsys):
    code = main(["advise", "devicelab.zoo:iris_mlp", "--input-shape", "120,4", "--batch",
                 "120,240", "--json", "--record", str(H100)])  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(ADVICE_SCHEMA).validate(data)
    assert data["predicted"]["device"] == "NVIDIA H100 80GB HBM3"  # the record's GPU by name
    assert data["batch_test"]["batches"] == [120, 240]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nocolon", "--input-shape", "8,4"], "MODULE:CALLABLE"),
        (["devicelab.zoo:missing", "--input-shape", "8,4"], "no callable 'missing'"),
        (["devicelab.zoo:iris_mlp", "--input-shape", "8,x"], "comma-separated integers"),
        (["devicelab.zoo:iris_mlp", "--input-shape", "8,4", "--batch", "0"], "positive"),
        (["devicelab.zoo:iris_mlp", "--input-shape", "8,4", "--gpu", "GTX 480"], "Known GPUs"),
    ],
)
def test_cli_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert main(["advise", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("gpu_name", ["cuda:0", "mps"])
def test_a_gpu_measured_here_decides_the_verdict_whatever_its_maker(gpu_name):
    """Apple's MPS counts as the GPU: measured here, it is compared with the CPU, not with a
    predicted NVIDIA record (faked devices: the verdict only reads their spreads)."""
    from types import SimpleNamespace

    from devicelab.advise.report import _verdict

    cpu = SimpleNamespace(
        device="cpu", spread=Spread(5e-4, 4e-4, 6e-4), bound="launch/dispatch-bound"
    )
    gpu = SimpleNamespace(device=gpu_name, spread=Spread(1e-4, 0.9e-4, 1.1e-4), bound="sync-bound")
    slower_record = SimpleNamespace(spread=Spread(9e-4, 8e-4, 1e-3), bound="sync-bound")
    assert _verdict({"cpu": cpu, gpu_name: gpu}, slower_record) == ("gpu", "sync-bound")
    assert _verdict({gpu_name: gpu}, None) == ("gpu", "sync-bound")
