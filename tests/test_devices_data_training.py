"""Devices, data, model and the timed training loop (issue: train on the device)."""

from __future__ import annotations

import pytest
import torch

from devicelab.data import load_iris
from devicelab.devices import DeviceNotAvailableError, available_devices, resolve_device
from devicelab.models import MLP
from devicelab.training import course_run, train


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture
def mac(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


# -- resolve_device -----------------------------------------------------------------------------
def test_auto_on_cpu_only(cpu_only):
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")
    assert available_devices() == ["cpu"]


def test_auto_prefers_cuda(two_gpus):
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert available_devices() == ["cpu", "cuda:0", "cuda:1"]


def test_auto_picks_mps_without_cuda(mac):
    assert resolve_device("auto") == torch.device("mps")


@pytest.mark.parametrize(("spec", "expected"), [("cuda", "cuda:0"), ("cuda:1", "cuda:1"),
                                                 ("CUDA:0", "cuda:0"), ("cpu", "cpu")])  # fmt: skip
def test_explicit_devices(two_gpus, spec, expected):
    assert resolve_device(spec) == torch.device(expected)


def test_torch_device_objects(two_gpus):
    assert resolve_device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_missing_cuda_names_what_is_available(cpu_only):
    with pytest.raises(DeviceNotAvailableError, match=r"cuda:0 was requested.*has cpu"):
        resolve_device("cuda")


def test_missing_gpu_index_is_an_error_not_a_fallback(two_gpus):
    with pytest.raises(DeviceNotAvailableError, match=r"cuda:2.*cpu, cuda:0, cuda:1"):
        resolve_device("cuda:2")


def test_missing_mps(cpu_only):
    with pytest.raises(DeviceNotAvailableError, match="mps was requested"):
        resolve_device("mps")


def test_mps_when_present(mac):
    assert resolve_device("mps") == torch.device("mps")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1", "tpu", "", "cpu:0:1", 3])
def test_unknown_spec_lists_valid_forms(spec):
    with pytest.raises(ValueError, match="valid forms"):
        resolve_device(spec)


# -- data ----------------------------------------------------------------------------------------
def test_iris_split_sizes_types_and_device():
    data = load_iris()
    assert data.X_train.shape == (120, 4) and data.X_test.shape == (30, 4)
    assert data.y_train.shape == (120,) and data.y_test.shape == (30,)
    assert data.X_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.device == torch.device("cpu")
    assert set(data.y_train.tolist()) == {0, 1, 2}


def test_scaler_is_fitted_on_the_training_split_only():
    data = load_iris()
    # the training split spans exactly [0, 1] per feature; the test split need not
    assert torch.allclose(data.X_train.min(0).values, torch.zeros(4))
    assert torch.allclose(data.X_train.max(0).values, torch.ones(4))
    assert not (torch.allclose(data.X_test.min(0).values, torch.zeros(4))
                and torch.allclose(data.X_test.max(0).values, torch.ones(4)))  # fmt: skip


def test_split_is_reproducible():
    a, b = load_iris(), load_iris()
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)


def test_data_to_device_copies():
    data = load_iris()
    moved = data.to("cpu")
    assert moved.device == torch.device("cpu") and torch.equal(moved.X_train, data.X_train)


# -- model ---------------------------------------------------------------------------------------
def test_mlp_shapes_and_layers():
    model = MLP()
    assert model(torch.rand(7, 4)).shape == (7, 3)
    assert (model.fc1.in_features, model.fc1.out_features, model.fc2.out_features) == (4, 10, 3)
    assert MLP(hidden=64).fc1.out_features == 64


@pytest.mark.parametrize("hidden", [0, -3])
def test_mlp_rejects_bad_width(hidden):
    with pytest.raises(ValueError, match="hidden"):
        MLP(hidden)


# -- training ------------------------------------------------------------------------------------
def seeded_run(**kwargs):
    torch.manual_seed(0)
    return train(MLP(), load_iris(), **kwargs)


def test_training_is_deterministic():
    first = seeded_run(epochs=300, record_every=10)
    second = seeded_run(epochs=300, record_every=10)
    assert first.losses == second.losses
    assert first.final_loss == second.final_loss


def test_course_training_reaches_ninety_percent_test_accuracy():
    result = seeded_run(epochs=5_000, record_every=None)
    assert result.test_accuracy >= 0.9
    assert result.train_accuracy >= 0.9


def test_record_every_controls_syncs_and_records():
    result = seeded_run(epochs=100, record_every=25)
    assert [epoch for epoch, _ in result.losses] == [25, 50, 75, 100]
    assert result.syncs == 4
    assert result.losses[-1][1] == pytest.approx(result.final_loss)


def test_record_every_none_reads_the_loss_once_at_the_end():
    result = seeded_run(epochs=100, record_every=None)
    assert result.losses == [(100, result.final_loss)]
    assert result.syncs == 1


def test_loss_falls_and_timing_is_reported():
    result = seeded_run(epochs=400, record_every=1)
    assert result.losses[-1][1] < result.losses[0][1]
    assert len(result.block_epoch_times_s) == 20
    assert result.wall_time_s > 0 and result.epoch_time_s > 0 and result.epoch_time_iqr_s >= 0
    assert result.device == "cpu"
    assert sum(result.block_epoch_times_s) * 20 == pytest.approx(result.wall_time_s, rel=0.1)


def test_warmup_runs_untimed_epochs_but_does_not_change_the_result():
    def counted_run(warmup_epochs):
        torch.manual_seed(0)
        model, forwards = MLP(), []
        # a hook survives the copy a warm-up trains, so its forward calls are counted too
        model.register_forward_pre_hook(lambda module, args: forwards.append(1))
        result = train(model, load_iris(), epochs=50, record_every=10, warmup_epochs=warmup_epochs)
        return result, len(forwards)

    with_warmup, calls_with = counted_run(20)
    without, calls_without = counted_run(0)
    assert with_warmup.losses == without.losses
    assert calls_with - calls_without == 20  # one forward per warm-up epoch, none skipped


@pytest.mark.parametrize("epochs", [0, -5, 2.5, True])
def test_bad_epochs(epochs):
    with pytest.raises(ValueError, match="epochs"):
        seeded_run(epochs=epochs)


@pytest.mark.parametrize("record_every", [0, -1, 101, 1.5])
def test_bad_record_every(record_every):
    with pytest.raises(ValueError, match="record_every"):
        seeded_run(epochs=100, record_every=record_every)


def test_bad_lr():
    with pytest.raises(ValueError, match="lr"):
        seeded_run(epochs=10, lr=0)


def test_unknown_device_in_train():
    with pytest.raises(ValueError, match="valid forms"):
        seeded_run(epochs=10, device="gpu")


def test_missing_device_in_train(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceNotAvailableError):
        seeded_run(epochs=10, device="cuda")


def test_course_run_is_measured_once_per_arguments():
    course_run.cache_clear()
    first = course_run("cpu", epochs=100)
    assert course_run(torch.device("cpu"), record_every=1, epochs=100) is first
    assert course_run("cpu", record_every=None, epochs=100) is not first
