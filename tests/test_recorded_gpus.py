"""The GPU page shows a recorded GPU through ``recorded_gpus``, never by indexing the JSON."""

from devicelab.hardware import GPUInfo, recorded_gpus
from devicelab.results import newest_record


def test_recorded_gpus_round_trip():
    gpu = GPUInfo(
        index=0,
        name="NVIDIA H100 80GB HBM3",
        backend="cuda",
        total_memory_bytes=80 * 2**30,
        free_memory_bytes=79 * 2**30,
        compute_capability=(9, 0),
        architecture="Hopper",
        tier="data center",
        multiprocessors=132,
        l2_cache_bytes=50 * 2**20,
        pcie_generation=5,
        pcie_width=16,
    )
    assert recorded_gpus({"hardware": {"gpus": [gpu.to_dict()]}}) == [gpu]


def test_recorded_gpus_without_a_gpu_is_empty():
    assert recorded_gpus({"hardware": {"gpus": []}}) == []
    assert recorded_gpus({}) == []


def test_the_shipped_record_lists_its_gpu():
    record = newest_record("cuda")
    if record is None:
        return
    gpus = recorded_gpus(record)
    assert gpus and all(
        g.compute_capability is None or len(g.compute_capability) == 2 for g in gpus
    )
