"""How the remedies page shows its rows: a table, and bars on one time axis per machine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .runs import RemedyRow

__all__ = ["REMEDY_COLOURS", "plot_remedies", "remedy_table"]

#: Bar colour of each kind of row, with the key the legend gives it.
REMEDY_COLOURS = {
    "the course's loop": "#888888",
    "a remedy, one model": "#3a76c4",
    "a remedy, several models at once": "#e08a2c",
}
FLOOR_COLOUR = "#c44e3a"


def _span(pair: tuple[float, float] | None, scale: float = 1.0) -> str:
    return "" if pair is None else f"[{pair[0] * scale:.2f}, {pair[1] * scale:.2f}]"


def remedy_table(rows: Sequence[RemedyRow], title: str) -> str:
    """``rows`` as a text table under ``title``: µs per epoch per model and the speed-up over
    the course's loop, each with its interval, the setup seconds and the final loss."""
    lines = [
        title,
        f"{'version':<44} {'µs/epoch/model':>14} {'interval':>19} {'speed-up':>9} "
        f"{'interval':>15} {'setup s':>8}  final loss",
    ]
    for r in rows:
        lines.append(
            f"{r.name:<44} {r.epoch_time_s * 1e6:14.2f} {_span(r.epoch_time_interval_s, 1e6):>19} "
            f"{r.speedup:8.2f}x {_span(r.speedup_interval):>15} {r.setup_s:8.1f}  "
            f"{r.final_loss:.6f}"
        )
    return "\n".join(lines)


def _colour(index: int, row: RemedyRow) -> str:
    kind = 0 if index == 0 else 2 if row.models > 1 else 1
    return list(REMEDY_COLOURS.values())[kind]


def _panel(ax: Any, title: str, rows: Sequence[RemedyRow], floor_us: float | None) -> None:
    us = [r.epoch_time_s * 1e6 for r in rows]
    errors = None
    if all(r.epoch_time_interval_s is not None for r in rows):
        errors = [
            [u - r.epoch_time_interval_s[0] * 1e6 for u, r in zip(us, rows, strict=True)],
            [r.epoch_time_interval_s[1] * 1e6 - u for u, r in zip(us, rows, strict=True)],
        ]
    ax.barh(
        range(len(rows)),
        us,
        xerr=errors,
        capsize=3,
        color=[_colour(i, r) for i, r in enumerate(rows)],
    )
    ax.set_yticks(range(len(rows)), [r.name for r in rows], fontsize=7)
    # The speed-ups stand in a column right of the axes, clear of every bar and error bar.
    for i, r in enumerate(rows):
        interval = (
            "" if r.speedup_interval is None else " [{:.1f}, {:.1f}]".format(*r.speedup_interval)
        )
        ax.text(
            1.02,
            i,
            f"{r.speedup:.1f}x{interval}",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=7,
        )
    ax.text(1.02, 1.01, "speed-up [interval]", transform=ax.transAxes, va="bottom", fontsize=7)
    if floor_us is not None:
        ax.axvline(floor_us, color=FLOOR_COLOUR, linestyle="--")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9, loc="left")


def plot_remedies(
    panels: Sequence[tuple[str, Sequence[RemedyRow]]],
    *,
    title: str,
    floor_s: float | None = None,
) -> Any:
    """One panel of bars per machine (µs per epoch per model, with its interval), stacked on
    one shared log time axis, the speed-ups in a column right of each panel; ``floor_s``, the
    first panel's arithmetic floor, is a dashed line there. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(9, 1.6 + 0.34 * sum(len(rows) for _, rows in panels)),
        sharex=True,
        squeeze=False,
        layout="constrained",
        height_ratios=[len(rows) for _, rows in panels],
    )
    for i, (ax, (name, rows)) in enumerate(zip(axes[:, 0], panels, strict=True)):
        _panel(ax, name, rows, floor_s * 1e6 if i == 0 and floor_s is not None else None)
    bottom = axes[-1, 0]
    bottom.set_xscale("log")
    bottom.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    bottom.set_xlabel("µs per epoch per model (log scale)")
    keys: list[Any] = [Patch(color=c, label=k) for k, c in REMEDY_COLOURS.items()]
    if floor_s is not None:
        keys.append(Line2D([], [], color=FLOOR_COLOUR, linestyle="--", label="arithmetic floor"))
    fig.legend(handles=keys, loc="outside lower center", ncol=len(keys), fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig
