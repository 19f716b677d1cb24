"""A figure drawn once, saved in English and in Chinese from the same data
(docs/_ext/translated_figures.py), and the check that reads the twins' sidecars."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib
import printed
import pytest
import translated_figures
import verify_translation

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

CATALOGUE = {
    "Time per epoch on {device}": "{device} 上每轮的耗时",
    "time per epoch (µs)": "每轮耗时（微秒）",
    "measured": "实测",
    "one CPU thread": "单个 CPU 线程",
    "{speedup:.1f}x faster": "快 {speedup:.1f} 倍",
}


def _figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    ax.bar(["one CPU thread", "GPU"], [120.0, 480.0], label="measured")
    ax.plot([0, 1], [100.0, 400.0], marker="o")
    ax.set_title("Time per epoch on cpu")
    ax.set_ylabel("time per epoch (µs)")
    ax.annotate("4.0x faster", xy=(0.5, 300.0))
    ax.legend(loc="upper left")
    return fig


def test_the_twin_has_the_same_data_and_chinese_text(tmp_path: Path) -> None:
    fig = _figure()
    before_texts = translated_figures.texts(fig)
    before_data = translated_figures.fingerprint(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would be a warning
        record = translated_figures.save_twin(
            fig, tmp_path / "sphx_glr_x_001.png", printed.translator([CATALOGUE])
        )
    assert (tmp_path / "sphx_glr_x_001_zh_CN.png").stat().st_size > 0
    sidecar = json.loads((tmp_path / "sphx_glr_x_001_zh_CN.json").read_text(encoding="utf-8"))
    assert sidecar == record
    assert record["data"]["en"] == record["data"]["zh_CN"] == before_data
    chinese = record["texts"]["zh_CN"]
    for text in ("cpu 上每轮的耗时", "每轮耗时（微秒）", "实测", "单个 CPU 线程", "快 4.0 倍"):
        assert text in chinese
    # the English figure is left as it was: its texts, its fonts, its category labels
    assert translated_figures.texts(fig) == before_texts == record["texts"]["en"]
    assert all(t.get_fontfamily()[0] != translated_figures.CJK_FONT
               for t in fig.findobj(matplotlib.text.Text))  # fmt: skip
    plt.close(fig)


def test_tick_labels_given_to_set_yticks_are_translated(tmp_path: Path) -> None:
    """``ax.set_yticks(ticks, labels)`` (how ``plot_breakdowns`` names its bars) keeps its labels
    in a FuncFormatter, which draws them anew at every draw."""
    fig, ax = plt.subplots(figsize=(5, 2), layout="constrained")
    ax.barh([0, 1], [1.0, 2.0])
    ax.set_yticks([0, 1], ["measured", "one CPU thread"])
    record = translated_figures.save_twin(
        fig, tmp_path / "y_001.png", printed.translator([CATALOGUE])
    )
    assert {"实测", "单个 CPU 线程"} <= set(record["texts"]["zh_CN"])
    assert {"measured", "one CPU thread"} <= set(translated_figures.texts(fig))  # restored
    plt.close(fig)


def test_the_twin_is_checked_for_overlapping_text(tmp_path: Path) -> None:
    """A translation that no longer fits fails, as an English overlap does."""
    from figure_check import FigureOverlapError

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.1, 0.5, "ab")
    ax.text(0.5, 0.5, "cd")
    long = printed.translator([{"ab": "一个很长很长很长很长很长的中文标签"}])
    with pytest.raises(FigureOverlapError, match="Chinese rendering"):
        translated_figures.save_twin(fig, tmp_path / "x_001.png", long)
    plt.close(fig)


def test_verify_translation_reads_the_sidecars(tmp_path: Path) -> None:
    fig = _figure()
    translated_figures.save_twin(fig, tmp_path / "a_001.png", printed.translator([CATALOGUE]))
    assert verify_translation.figure_problems([tmp_path]) == []

    translated_figures.save_twin(fig, tmp_path / "b_001.png", printed.translator([{}]))
    problems = verify_translation.figure_problems([tmp_path])
    assert problems and all(p.startswith("b_001_zh_CN.png: English ") for p in problems)
    assert any("'Time per epoch on cpu'" in p for p in problems)

    sidecar = tmp_path / "b_001_zh_CN.json"
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    record["data"]["zh_CN"] = "0" * 64  # what a second run with other numbers would leave
    record["texts"]["zh_CN"] = ["实测"]
    sidecar.write_text(json.dumps(record), encoding="utf-8")
    assert verify_translation.figure_problems([tmp_path]) == [
        "b_001_zh_CN.json: the translation plots other data than the English"
    ]
    assert verify_translation.figure_problems([tmp_path / "none"]) == [
        f"no translated figure found under {tmp_path / 'none'}"
    ]
    plt.close(fig)
