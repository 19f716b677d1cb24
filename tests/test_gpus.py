"""devicelab.gpus: the datasheet table, its sources and the name matching (no GPU needed)."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

import pytest

from devicelab import gpus
from devicelab.gpus import FIGURES, GPUSpec, datasheet, known_gpus

SPECS = [datasheet(name) for name in known_gpus()]
NUMBERS = [field for field in FIGURES if field != "interconnect"]


def test_rtx_3080_ti_matches_the_well_known_figures():
    spec = datasheet("NVIDIA GeForce RTX 3080 Ti")
    assert spec.name == "NVIDIA GeForce RTX 3080 Ti"
    assert spec.fp32_tflops == pytest.approx(34.1)
    assert spec.memory_bandwidth_gb_s == pytest.approx(912)
    assert (spec.sm_count, spec.memory_gb) == (80, 12)
    assert spec.peak_flops_per_s == pytest.approx(34.1e12)
    assert spec.peak_bytes_per_s == pytest.approx(912e9)
    assert spec.sources and all(s.url.startswith("https://www.nvidia.com/") for s in spec.sources)


def test_h100_sxm_figures():
    spec = datasheet("H100 SXM")
    # 66.9 is the Hopper whitepaper's figure (132 SMs x 128 lanes x 2 FLOP x 1.98 GHz); the
    # datasheet rounds it to 67. The table keeps the unrounded one and names both documents.
    assert spec.fp32_tflops == pytest.approx(66.9)
    assert spec.memory_bandwidth_gb_s == pytest.approx(3350)
    assert spec.sm_count == 132
    assert spec.interconnect == "NVLink 4 (900 GB/s)"


@pytest.mark.parametrize(
    ("name", "fp32", "tf32", "bandwidth", "memory"),
    [
        ("NVIDIA A100-SXM4-80GB", 19.5, 156, 2039, 80),
        ("NVIDIA H200", 67, 494.5, 4800, 141),
        ("NVIDIA GeForce RTX 4090", 82.6, 82.6, 1008, 24),
        ("NVIDIA GeForce RTX 5090", 104.8, 104.8, 1792, 32),
        ("Tesla T4", 8.1, None, 300, 16),
    ],
)
def test_reference_values(name, fp32, tf32, bandwidth, memory):
    spec = datasheet(name)
    assert spec.fp32_tflops == pytest.approx(fp32)
    assert spec.tf32_tflops == (None if tf32 is None else pytest.approx(tf32))
    assert spec.memory_bandwidth_gb_s == pytest.approx(bandwidth)
    assert spec.memory_gb == memory


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_figure_is_positive_or_null_and_sourced(spec: GPUSpec):
    for field in NUMBERS:
        value = getattr(spec, field)
        assert value is None or value > 0, field
    assert spec.interconnect
    for field in FIGURES:
        if getattr(spec, field) is None:
            # a missing figure is explained, never silently absent
            assert field in spec.notes, f"{spec.name}: {field} is null and the notes omit it"
        else:
            assert spec.sources_for(field), f"{spec.name}: no source for {field}"
    for source in spec.sources:
        assert source.title and source.what
        assert source.url.startswith("https://")


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_field_kinds(spec: GPUSpec):
    assert spec.kind in {"consumer", "data centre", "laptop/SoC"}
    assert spec.vendor in {"NVIDIA", "Apple"}
    assert spec.sm_count is None or isinstance(spec.sm_count, int)
    if spec.vendor == "Apple":
        assert spec.interconnect == "unified memory (SoC)"
        assert spec.tf32_tflops is None


def test_the_table_covers_the_brief():
    wanted = [
        "RTX 3060",
        "RTX 3070",
        "RTX 3080",
        "RTX 3080 Ti",
        "RTX 3090",
        "RTX 4060",
        "RTX 4070",
        "RTX 4080",
        "RTX 4090",
        "RTX 5090",
        "T4",
        "L4",
        "A10",
        "A100 SXM 40GB",
        "A100 SXM 80GB",
        "A100 PCIe 40GB",
        "A100 PCIe 80GB",
        "H100 PCIe",
        "H100 SXM",
        "H200 SXM",
        "Apple M1",
        "Apple M2",
        "Apple M3",
        "Apple M4",
    ]
    names = {datasheet(name).name for name in wanted}
    assert len(names) == len(wanted)
    assert names == set(known_gpus())


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("NVIDIA GeForce RTX 3080 Ti", "NVIDIA GeForce RTX 3080 Ti"),
        ("NVIDIA GeForce RTX 3080", "NVIDIA GeForce RTX 3080"),
        ("RTX 3080", "NVIDIA GeForce RTX 3080"),
        ("rtx 3080 ti", "NVIDIA GeForce RTX 3080 Ti"),
        ("3080", "NVIDIA GeForce RTX 3080"),
        ("3080 Ti", "NVIDIA GeForce RTX 3080 Ti"),
        ("RTX3080Ti", "NVIDIA GeForce RTX 3080 Ti"),
        ("  NVIDIA(R)   GeForce(TM) RTX   4070  ", "NVIDIA GeForce RTX 4070"),
        ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM"),
        ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe"),
        ("H100 SXM", "NVIDIA H100 SXM"),
        ("h100", "NVIDIA H100 SXM"),
        ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM 80GB"),
        ("NVIDIA A100-SXM4-40GB", "NVIDIA A100 SXM 40GB"),
        ("NVIDIA A100-PCIE-40GB", "NVIDIA A100 PCIe 40GB"),
        ("NVIDIA A100 80GB PCIe", "NVIDIA A100 PCIe 80GB"),
        ("A100", "NVIDIA A100 SXM 80GB"),
        ("a100 40gb", "NVIDIA A100 SXM 40GB"),
        ("Tesla T4", "NVIDIA T4"),
        ("NVIDIA L4", "NVIDIA L4"),
        ("NVIDIA A10", "NVIDIA A10"),
        ("NVIDIA H200", "NVIDIA H200 SXM"),
        ("Apple M2", "Apple M2"),
        ("m4", "Apple M4"),
    ],
)
def test_names_match(asked, expected):
    assert datasheet(asked).name == expected


def test_a_prefix_is_not_a_match():
    assert datasheet("RTX 3080").name != datasheet("RTX 3080 Ti").name
    assert datasheet("RTX 3080").sm_count == 68
    assert datasheet("RTX 3080 Ti").sm_count == 80
    for other in ("RTX 4070 Ti", "RTX 4070 SUPER", "RTX 4060 Laptop GPU", "NVIDIA A10G"):
        with pytest.raises(ValueError):
            datasheet(other)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as raised:
        datasheet("NVIDIA GeForce RTX 4060 Laptop GPU")
    message = str(raised.value)
    assert "'NVIDIA GeForce RTX 4060 Laptop GPU'" in message
    assert "Did you mean 'NVIDIA GeForce RTX 4060'" in message
    assert all(name in message for name in known_gpus())


def test_an_empty_name_raises():
    with pytest.raises(ValueError, match="Known GPUs"):
        datasheet("")


def test_a_spec_is_its_json_entry():
    text = resources.files("devicelab").joinpath("gpus.json").read_text("utf-8")
    entries = json.loads(text)["gpus"]
    assert [json.loads(json.dumps(dataclasses.asdict(spec))) for spec in SPECS] == entries


def test_null_figures_give_null_peaks():
    m3 = datasheet("Apple M3")
    assert m3.peak_flops_per_s is None and m3.peak_bytes_per_s is None
    assert datasheet("Apple M1").peak_flops_per_s == pytest.approx(2.6e12)


def test_sources_for_rejects_a_non_figure():
    with pytest.raises(ValueError, match="not a figure"):
        datasheet("T4").sources_for("name")


def _shipped_table() -> dict:
    return json.loads(resources.files("devicelab").joinpath("gpus.json").read_text("utf-8"))


def _corrupted(change) -> str:
    """The message of the error that loading the shipped table after ``change`` raises."""
    data = _shipped_table()
    change(data)
    with pytest.raises(ValueError) as error:
        gpus._load(data)
    return str(error.value)


def test_the_shipped_table_loads():
    table, _ = gpus._load(_shipped_table())
    assert list(table) == known_gpus()


def test_a_missing_field_is_named_with_its_gpu():
    message = _corrupted(lambda data: data["gpus"][0].pop("memory_gb"))
    name = _shipped_table()["gpus"][0]["name"]
    assert f"gpus/0 ({name})" in message and "'memory_gb' is a required property" in message
    assert "gpus-v1.schema.json" in message


def test_a_negative_figure_is_refused():
    message = _corrupted(lambda data: data["gpus"][2].update(fp32_tflops=-34.1))
    assert "gpus/2/fp32_tflops" in message and "-34.1" in message


def test_an_unknown_key_is_refused():
    message = _corrupted(lambda data: data["gpus"][1].update(fp32_tflop=1.0))
    assert "'fp32_tflop' was unexpected" in message


def test_a_figure_without_a_source_is_refused():
    def unsourced(data):
        for source in data["gpus"][0]["sources"]:
            source["what"] = source["what"].replace("sm_count", "SM count")

    assert "no source for sm_count" in _corrupted(unsourced)


def test_a_name_for_two_gpus_is_refused():
    def ambiguous(data):
        data["gpus"][1]["aliases"].append(data["gpus"][0]["name"])

    assert "names both" in _corrupted(ambiguous)
