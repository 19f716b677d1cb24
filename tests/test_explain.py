"""devicelab.explain: parts measured on their own, a residual always reported; the numba floor."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from devicelab.data import load_iris
from devicelab.explain import StepBreakdown, explain_course_step, explain_step
from devicelab.floor import floor_train
from devicelab.models import MLP, initial_weights
from devicelab.profiling import busy_time_s
from devicelab.remedies import train_remedy


@pytest.fixture(scope="module")
def iris():
    return load_iris()


def _quick(model, iris, **kwargs) -> StepBreakdown:
    return explain_step(
        model, iris.X_train, targets=iris.y_train, steps=5, rounds=3, warmup=1, **kwargs
    )


def test_course_step_parts_are_named_non_negative_and_reported(iris):
    result = _quick(MLP(), iris)
    assert list(result.parts) == ["forward", "loss", "backward", "optimizer", "sync"]
    assert all(seconds >= 0 for seconds in result.parts.values())
    assert result.measured_s > 0
    # a CPU has no device to be busy or idle
    assert result.device_busy_s is None and result.idle_share is None and result.kernels is None
    # forward (2 linears, relu) + loss + zero_grad + backward + step: a dozen or more ATen calls
    assert result.ops >= 10
    record = result.to_dict()
    assert record["residual_s"] == result.residual_s and record["parts"] == result.parts
    assert "residual" in result.table() and "sum of parts" in result.table()


def test_the_residual_of_planted_parts():
    """Parts of 15 and 25 µs in a 50 µs step leave 10 µs unexplained: a fifth of the step."""
    result = StepBreakdown(
        device="cpu",
        parts={"forward": 1.5e-5, "backward": 2.5e-5},
        measured_s=5e-5,
        measured_iqr_s=0.0,
        ops=3,
        kernels=None,
        device_busy_s=None,
        floor_s=None,
        rounds=3,
        steps_per_block=5,
        threads=1,
    )
    assert result.residual_s == pytest.approx(1e-5)
    assert result.residual_share == pytest.approx(0.2)


@pytest.mark.parametrize(("measured", "words"), [(2e-5, "step took 5.0 µs (25.0%) more than"),
                                                  (1e-5, "parts add up to 5.0 µs (50.0%) more")])  # fmt: skip
def test_residual_is_told_in_words_never_as_a_negative_time(measured, words):
    result = StepBreakdown(
        device="cpu",
        parts={"forward": 1.5e-5},
        measured_s=measured,
        measured_iqr_s=0.0,
        ops=3,
        kernels=None,
        device_busy_s=None,
        floor_s=None,
        rounds=3,
        steps_per_block=5,
        threads=1,
    )
    assert words in result.residual_sentence()
    assert "-" not in result.table()


def test_threads_are_set_for_the_measurement_and_restored(iris):
    before = torch.get_num_threads()
    result = _quick(MLP(), iris, num_threads=1)
    assert result.threads == 1 and torch.get_num_threads() == before


def test_no_optimizer_means_no_optimizer_part(iris):
    result = _quick(MLP(), iris, optimizer=None)
    assert "optimizer" not in result.parts
    assert list(result.parts) == ["forward", "loss", "backward", "sync"]


def test_inference_has_only_forward_and_sync(iris):
    model = MLP()
    before = model.fc1.weight.detach().clone()
    result = _quick(model, iris, loss_fn=None)
    assert list(result.parts) == ["forward", "sync"]
    assert torch.equal(model.fc1.weight, before)  # nothing trained


def test_the_step_really_trains(iris):
    model = MLP()
    with torch.no_grad():
        start = F.cross_entropy(model(iris.X_train), iris.y_train).item()
    explain_step(model, iris.X_train, targets=iris.y_train, steps=20, rounds=3, warmup=0)
    with torch.no_grad():
        assert F.cross_entropy(model(iris.X_train), iris.y_train).item() < start


def test_busy_time_counts_overlaps_once():
    assert busy_time_s([]) == 0
    assert busy_time_s([(0, 2), (1, 3), (5, 6)]) == pytest.approx(4)
    assert busy_time_s([(0, 10), (2, 3)]) == pytest.approx(10)
    with pytest.raises(ValueError, match="end after they start"):
        busy_time_s([(3, 1)])


def test_idle_share_follows_busy_time():
    result = StepBreakdown(
        device="cuda:0",
        parts={"forward": 1e-4},
        measured_s=1e-3,
        measured_iqr_s=0.0,
        ops=12,
        kernels=20,
        device_busy_s=1e-4,
        floor_s=None,
        rounds=3,
        steps_per_block=5,
        threads=1,
    )
    assert result.idle_share == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "not a model"}, TypeError, "torch.nn.Module"),
        ({"inputs": [1, 2]}, TypeError, "tensor"),
        ({"device": "tpu"}, ValueError, "tpu"),
        ({"targets": None}, ValueError, "targets are required"),
        ({"steps": 0}, ValueError, "steps must be a positive integer"),
        ({"rounds": -1}, ValueError, "rounds must be a positive integer"),
        ({"warmup": -2}, ValueError, "warmup"),
        ({"num_threads": 0}, ValueError, "num_threads must be a positive integer"),
        ({"inputs": torch.zeros(4, 4, device="meta")}, ValueError, "move it first"),
        ({"model": nn.ReLU()}, ValueError, "no trainable parameters"),
    ],
)
def test_bad_arguments_raise_clear_errors(iris, kwargs, error, match):
    arguments = {"model": MLP(), "inputs": iris.X_train, "targets": iris.y_train} | kwargs
    with pytest.raises(error, match=match):
        explain_step(arguments.pop("model"), arguments.pop("inputs"), targets=arguments.pop("targets"),
                     steps=arguments.pop("steps", 2), rounds=arguments.pop("rounds", 1),
                     **arguments)  # fmt: skip


def test_a_model_that_raises_is_named_with_the_input_shapes(iris):
    with pytest.raises(RuntimeError, match=r"MLP raised on inputs of shape \(120, 3\)"):
        explain_step(MLP(), iris.X_train[:, :3], targets=iris.y_train, steps=1, rounds=1)


def test_parameters_on_another_device_are_named(iris):
    model = MLP().to("meta")
    with pytest.raises(ValueError, match="model.to"):
        explain_step(model, iris.X_train, targets=iris.y_train, steps=1, rounds=1)


@pytest.mark.slow
def test_floor_does_the_course_maths(iris):
    """Same initial weights, same data, same lr: the numba loop ends at the course's loss."""
    epochs = 300
    floor_loss, seconds = floor_train(iris, epochs=epochs)
    course = train_remedy("course loop", iris, initial_weights(0), epochs=epochs)
    assert seconds > 0
    assert floor_loss == pytest.approx(course.final_loss, rel=1e-4)


def test_floor_rejects_bad_sizes(iris):
    with pytest.raises(ValueError, match="epochs"):
        floor_train(iris, epochs=0)


@pytest.mark.slow
def test_course_step_on_cpu_carries_the_floor():
    result = explain_course_step("cpu", steps=5, rounds=3)
    assert result.floor_s is not None
    # the framework costs more than the arithmetic: the floor is below the measured step
    assert 0 < result.floor_s < result.measured_s
