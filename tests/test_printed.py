"""Printed output through the catalogue (docs/_ext/printed.py): templates read from the code,
printed lines matched to them, and the translation filled with the run's own values."""

from __future__ import annotations

import re
from pathlib import Path

import catalogues
import printed
import pytest

ROOT = Path(__file__).resolve().parents[1]

EXAMPLE = """
NAMES = {"iris": "Iris MLP"}
print(f"advised on {len(advice)} models in {elapsed:.1f} s")
print(f"{'model':<10} {'step':>8}")
print("The verdict:", verdict)
print(f"{name}: ratio {ratio:.2f}x, {'within' if ok else 'outside'} 25%.\\nnext line {x}")
Collapsed(f"The report: {report.verdict}", str(report))
print(f"{x}")
ax.set_title(f"Time per epoch on {device}")
ax.bar(["one CPU", "GPU"], times, label="measured")
ax.annotate(f"{speedup:.1f}x faster", xy=(1, 2))
"""


def test_an_example_s_templates_are_its_f_strings_as_written() -> None:
    found = printed.example_templates(EXAMPLE)
    assert found == [
        "advised on {len(advice)} models in {elapsed:.1f} s",
        "model          step",  # constant fields are text, padded as printed
        "The verdict: {verdict}",
        "{name}: ratio {ratio:.2f}x, {'within' if ok else 'outside'} 25%.",
        "next line {x}",
        "within",
        "outside",
        "The report: {report.verdict}",
        "Time per epoch on {device}",  # figure text: a title, categories, a legend, a note
        "one CPU",
        "GPU",
        "measured",
        "{speedup:.1f}x faster",
        "Iris MLP",  # a module-level table's words, printed as values
        "The verdict:",  # every phrase the code holds, as a piece of some line
    ]  # ``print(f"{x}")`` has no word to translate


def test_a_printed_line_is_refilled_with_its_own_values() -> None:
    translate = printed.translator([{
        "advised on {len(advice)} models in {elapsed:.1f} s":
            "{elapsed:.1f} 秒内为 {len(advice)} 个模型给出建议",
        "{name}: {ratio:.2f}x, {'within' if ok else 'outside'} 25%.":
            "{name}：{ratio:.2f} 倍，{'within' if ok else 'outside'} 25% 以内",
        "within": "在",
        "s": "秒",
    }])  # fmt: skip
    assert translate.line("advised on 4 models in 12.5 s") == "12.5 秒内为 4 个模型给出建议"
    assert translate.line("iris: 1.07x, within 25%.") == "iris：1.07 倍，在 25% 以内"
    # a value that is not a known phrase stays as printed; so does a line with no template
    assert translate.line("iris: 1.07x, outside 25%.") == "iris：1.07 倍，outside 25% 以内"
    assert translate.line("something else entirely") == "something else entirely"


def test_a_value_that_is_itself_a_filled_template_is_refilled() -> None:
    """``print(f"the GPU is {verdict}.")`` where ``verdict = f"{r:.2f}x slower than the CPU"``."""
    translate = printed.translator([{
        "the GPU is {verdict}": "GPU {verdict}",
        "{r:.2f}x slower than the CPU": "比 CPU 慢 {r:.2f} 倍",
        "ms": "毫秒",
    }])  # fmt: skip
    assert translate.line("the GPU is 2.40x slower than the CPU") == "GPU 比 CPU 慢 2.40 倍"
    # a full stop after the last value does not hide its unit
    translate = printed.translator([{"one step takes {t}": "一步耗时 {t}", "ms": "毫秒"}])
    assert translate.line("one step takes 2.40 ms.") == "一步耗时 2.40 毫秒."


def test_a_report_bullet_is_kept_outside_the_template() -> None:
    translate = printed.translator(
        [{"At batch {b:,}, {device} is faster.": "批次 {b:,} 时 {device} 更快。"}]
    )
    assert translate.line("- At batch 120, cpu is faster.") == "- 批次 120 时 cpu 更快。"
    # a piece that ends in punctuation takes the rest of the line, not "3" of "3.5"
    translate = printed.translator([{"faster: {per}.": "更快：{per}。"}])
    assert translate.line("x faster: 3.5 us.") == "x 更快：3.5 us。"


def test_the_most_specific_template_wins() -> None:
    translate = printed.translator([{
        "{name}: {value}": "通用：{name} {value}",
        "{name}: {value} per step": "每步：{name} {value}",
    }])  # fmt: skip
    assert translate.line("cpu: 3 µs per step") == "每步：cpu 3 µs"
    assert translate.line("cpu: 3 µs") == "通用：cpu 3 µs"


def test_units_and_padding_follow_the_translation() -> None:
    translate = printed.translator([{"  {part:<10} {cost:>8}/epoch": "  {part:<10} 每轮 {cost:>8}",
                                     "µs": "微秒", "sync-bound": "受同步限制"}])  # fmt: skip
    # each value is padded to its field's width in display columns: "loss" to 10, while
    # "12.3 微秒" already takes 9 of its 8
    assert translate.line("  loss         12.3 µs/epoch") == "  loss       每轮 12.3 微秒"
    assert printed.display_width("12.3 微秒") == 9
    assert printed.pad("微秒", "x:>6") == "  微秒" and printed.pad("3", "n:,.0f") == "3"
    translate = printed.translator([{"bound: {b}": "瓶颈：{b}", "sync-bound": "受同步限制"}])
    assert translate.line("bound: sync-bound") == "瓶颈：受同步限制"


def test_a_fragment_that_the_package_joins_into_a_line_is_translated_inside_it() -> None:
    translate = printed.translator(
        [{"  C++ compiler  ": "  C++ 编译器  ", "not installed": "未安装"}]
    )
    assert translate.line("  C++ compiler  not installed") == "  C++ 编译器  未安装"


def test_a_translation_must_keep_every_field() -> None:
    english = "advised on {len(advice)} models in {elapsed:.1f} s"
    assert printed.field_problems(english, "{elapsed:.1f} 秒内为 {len(advice)} 个模型") == []
    assert printed.field_problems(english, "{elapsed:.1f} 秒内") == [
        "field {len(advice)} is missing"
    ]
    assert printed.field_problems(english, "{elapsed} 秒内 {len(advice)}") == [
        "field {elapsed:.1f} is missing",
        "field {elapsed} is not in the English",
    ]
    problems = catalogues.translation_problems(
        "printed/auto_examples/x/plot_y", english, "{elapsed:.1f} 秒"
    )
    assert problems == ["field {len(advice)} is missing"]


def _sample_line(template: str) -> tuple[str, list[str]]:
    """The template printed with a distinct number in each field (the same field, the same
    number: ``{n}x{n}``)."""
    values: dict[str, str] = {}
    out = []
    for part in printed.parse(template):
        if part.field is None:
            out.append(part.text)
        else:
            value = values.setdefault(part.field, str(1000 + len(values)))
            out.append(printed.pad(value, part.field))  # as printed: {name:<14} takes 14
    return "".join(out), list(values.values())


@pytest.mark.parametrize("page", sorted(catalogues.printed_sources()))
def test_every_template_in_the_repository_finds_its_own_printed_line(page: str) -> None:
    """Each template, filled with numbers, is matched by itself and gives the numbers back
    (two fields side by side cannot be told apart, so those are left out)."""
    templates = catalogues.printed_sources()[page]
    assert templates, page
    translate = printed.translator([{t: t for t in templates}])
    for template in templates:
        parts = printed.parse(template)
        if any(
            a.field is not None and b.field is not None
            for a, b in zip(parts, parts[1:], strict=False)
        ):
            continue
        line, values = _sample_line(template)
        refilled = translate.line(line)
        assert re.findall(r"\d+", refilled) == re.findall(r"\d+", line), (template, refilled)
        assert all(v in refilled for v in values)
