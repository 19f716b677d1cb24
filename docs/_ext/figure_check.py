"""Figures that read at a glance: no text overlaps other text, a legend or a data marker.

``overlaps(fig)`` draws a figure with the Agg renderer and measures, in pixels:

- the extent of every text that was drawn (titles and the suptitle, axis labels, tick labels,
  offset texts, ``ax.text``/``ax.annotate`` labels, legend entries and titles). A rotated text
  is measured as its rotated rectangle, not as the box around it;
- the frame of every legend;
- the position of every data marker: a ``Line2D`` drawn with a marker (error-bar caps
  included) and the points of a ``scatter``.

It reports every pair of texts that overlap by more than 1 px, every text under a legend it does
not belong to, every text with a data marker's centre inside it, and every legend frame that
covers a data marker. Each message names the figure (its title), both parties and their
strings, and how to fix it.

In the docs build, ``checked_matplotlib_scraper`` (conf.py's ``image_scrapers``) runs the check
on each figure before sphinx-gallery's own matplotlib scraper saves it: an overlap raises, the
example fails, and so does the build.

The narrative notebooks (``docs/*.md``) draw their figures in a Jupyter kernel, which no
scraper sees, and the inline backend closes each figure after its cell. A page checks its
figure from a hidden cell right after it, which fails the page (and the build) on an overlap::

    ```{code-cell} python3
    :tags: [remove-cell]
    import sys
    sys.path.insert(0, "_ext")  # the kernel runs in docs/
    from figure_check import assert_no_overlaps
    assert_no_overlaps([fig])
    ```

An author checks an example before a build with the command line, which runs the script cell
by cell as sphinx-gallery does (in the script's folder, figures collected after each cell)::

    python docs/_ext/figure_check.py examples/overheads/plot_remedies.py [more.py ...]

Exit status 1 lists every overlap; 0 means none.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Overlaps up to this many pixels (in each direction) are tolerated: touching is not covering.
TOLERANCE_PX = 1.0
FIX_TEXT = (
    "move one of them (ax.text/annotate position, xytext offset, ha/va), shorten it, or give "
    'the figure room (layout="constrained", a larger figsize, fewer ticks)'
)
FIX_LEGEND = (
    'move the legend (loc="best" or a corner without data, bbox_to_anchor outside the axes, '
    "fig.legend below the axes) or move the text"
)
FIX_MARKER = "offset the label from its point (annotate with xytext and textcoords) or move it"
FIX_LEGEND_MARKER = (
    'move the legend off the data (loc="best", bbox_to_anchor outside the axes, fig.legend '
    "below the axes) or widen the axes' limits to leave an empty corner"
)


class FigureOverlapError(RuntimeError):
    """A figure has overlapping text; the message lists every overlap and how to fix it."""


@dataclass
class _Text:
    artist: Any
    role: str
    corners: list[tuple[float, float]]
    legend: Any = None


@dataclass
class _Marker:
    """The markers of one artist: their display positions (N x 2) and radii (N), in px."""

    role: str
    xy: Any
    radius: Any


@dataclass
class _Drawn:
    texts: list[Any] = field(default_factory=list)


def figure_name(fig: Any) -> str:
    """The figure's title: its suptitle, else its axes' titles, else its number."""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return suptitle.get_text().strip()
    titles = [
        t.get_text().strip()
        for ax in fig.get_axes()
        for t in (ax.title, ax._left_title, ax._right_title)
        if t.get_text().strip()
    ]
    if titles:
        return " | ".join(titles)
    return f"Figure {getattr(fig, 'number', '?')} (no title)"


def _axes_name(ax: Any) -> str:
    title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
    return f'axes "{title}"' if title else "an untitled axes"


def _roles(fig: Any) -> dict[int, str]:
    """What each known text of the figure is, for the messages."""
    roles: dict[int, str] = {}
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        text = getattr(fig, name, None)
        if text is not None:
            roles[id(text)] = name.lstrip("_")
    for ax in fig.get_axes():
        where = _axes_name(ax)
        for text in (ax.title, ax._left_title, ax._right_title):
            roles[id(text)] = f"the title of {where}"
        for axis_name, axis in ax._axis_map.items():
            roles[id(axis.label)] = f"the {axis_name} label of {where}"
            roles[id(axis.offsetText)] = f"the {axis_name} offset text of {where}"
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                for label in (tick.label1, tick.label2):
                    roles[id(label)] = f"an {axis_name} tick label of {where}"
        for text in ax.texts:
            kind = "annotation" if hasattr(text, "xyann") else "text"
            roles[id(text)] = f"a {kind} in {where}"
    return roles


def _legends(fig: Any) -> list[Any]:
    from matplotlib.legend import Legend

    return [leg for leg in fig.findobj(Legend) if leg.get_visible()]


def _corners(text: Any, renderer: Any) -> list[tuple[float, float]]:
    """The four corners of a text's drawn rectangle, rotated with the text."""
    from matplotlib.text import Text

    box = Text.get_window_extent(text, renderer)  # the text alone, without an annotation arrow
    angle = text.get_rotation() % 360
    if angle % 90 == 0:
        return [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    # The box around a rotated rectangle shares its centre; its sides come from the text laid
    # out flat.
    text.set_rotation(0)
    try:
        flat = Text.get_window_extent(text, renderer)
    finally:
        text.set_rotation(angle)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    w, h = flat.width / 2, flat.height / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [
        (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
        for dx, dy in ((-w, -h), (w, -h), (w, h), (-w, h))
    ]


def _depth(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """How far two convex polygons overlap (separating axes); <= 0 when they do not."""
    depth = math.inf
    for poly in (a, b):
        for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1], strict=True):
            nx, ny = y0 - y1, x1 - x0
            norm = math.hypot(nx, ny)
            if norm == 0:
                continue
            nx, ny = nx / norm, ny / norm
            pa = [x * nx + y * ny for x, y in a]
            pb = [x * nx + y * ny for x, y in b]
            depth = min(depth, min(max(pa), max(pb)) - max(min(pa), min(pb)))
    return depth


def _inside(point: tuple[float, float], poly: list[tuple[float, float]], margin: float) -> bool:
    """Whether a point lies inside a convex polygon, at least ``margin`` px from its sides.

    A negative margin lets the point lie up to ``-margin`` px outside (a marker's radius).
    """
    x, y = point
    signs = []
    for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1], strict=True):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        signs.append(((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) / length)
    return all(s > margin for s in signs) or all(s < -margin for s in signs)


@contextlib.contextmanager
def _recording_text_draws(drawn: _Drawn) -> Iterator[None]:
    """Record every text that draws itself (ticks outside the view limits do not)."""
    from matplotlib.text import Text

    original = Text.draw

    def draw(self: Any, renderer: Any) -> Any:
        result = original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.texts.append(self)
        return result

    Text.draw = draw
    try:
        yield
    finally:
        Text.draw = original


def _markers(fig: Any, legend_artists: set[int]) -> list[_Marker]:
    """The display position of every data marker drawn in the figure's axes."""
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    found = []
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        frame = ax.bbox
        for artist in ax.get_children():
            if id(artist) in legend_artists or not artist.get_visible():
                continue
            if isinstance(artist, Line2D) and artist.get_marker() not in (None, "", " ", "None"):
                points = artist.get_transform().transform(artist.get_xydata())
                radii = np.full(len(points), artist.get_markersize() / 2)
                label = artist.get_label()
                role = f'a marker of "{label}"' if not label.startswith("_") else "a marker"
            elif isinstance(artist, PathCollection) and len(artist.get_offsets()):
                points = artist.get_offset_transform().transform(artist.get_offsets())
                sizes = artist.get_sizes() if len(artist.get_sizes()) else np.array([36.0])
                radii = np.sqrt(np.resize(sizes, len(points))) / 2
                label = artist.get_label()
                role = f'a point of "{label}"' if not label.startswith("_") else "a point"
            else:
                continue
            keep = np.isfinite(points).all(axis=1)
            if artist.get_clip_on():
                x, y = points[:, 0], points[:, 1]
                keep &= (frame.x0 <= x) & (x <= frame.x1) & (frame.y0 <= y) & (y <= frame.y1)
            if keep.any():
                where = f"{role} in {_axes_name(ax)}"
                found.append(_Marker(where, points[keep], radii[keep] * fig.dpi / 72))
    return found


def _collect(fig: Any) -> tuple[list[_Text], list[tuple[Any, list]], list[_Marker]]:
    """Draw the figure and measure its texts, legend frames and data markers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    drawn = _Drawn()
    with _recording_text_draws(drawn):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    roles = _roles(fig)
    legends = _legends(fig)
    owner: dict[int, Any] = {}
    legend_artists: set[int] = set()
    frames = []
    for legend in legends:
        for artist in legend.findobj():
            legend_artists.add(id(artist))
            owner[id(artist)] = legend
        box = legend.get_frame().get_window_extent(renderer)
        frames.append(
            (legend, [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)])
        )
    texts = []
    seen: set[int] = set()
    for artist in drawn.texts:
        if id(artist) in seen:
            continue
        seen.add(id(artist))
        legend = owner.get(id(artist))
        role = roles.get(id(artist), "a legend entry" if legend is not None else "a text")
        texts.append(_Text(artist, role, _corners(artist, renderer), legend))
    return texts, frames, _markers(fig, legend_artists)


def _quote(text: Any) -> str:
    value = " ".join(text.get_text().split())
    return repr(value if len(value) <= 60 else value[:57] + "...")


def overlaps(fig: Any) -> list[str]:
    """Every overlap of text with text, a legend or a data marker in ``fig``, as messages.

    Parameters
    ----------
    fig
        A matplotlib figure. It is drawn with the Agg renderer (its layout engine runs).

    Returns
    -------
    list of str
        One message per overlap, naming the figure, both parties and the fix; empty when the
        figure reads cleanly.
    """
    texts, frames, markers = _collect(fig)
    name = figure_name(fig)
    problems = []
    for a, b in itertools.combinations(texts, 2):
        if a.legend is not b.legend:
            continue  # a legend's entries lie inside its frame: the frame check reports them
        depth = _depth(a.corners, b.corners)
        if depth > TOLERANCE_PX:
            problems.append(
                f'figure "{name}": {a.role} {_quote(a.artist)} overlaps {b.role} '
                f"{_quote(b.artist)} by {depth:.0f} px: {FIX_TEXT}."
            )
    for legend, frame in frames:
        for text in texts:
            if text.legend is legend:
                continue
            depth = _depth(text.corners, frame)
            if depth > TOLERANCE_PX:
                problems.append(
                    f'figure "{name}": {text.role} {_quote(text.artist)} is under a legend '
                    f"(by {depth:.0f} px): {FIX_LEGEND}."
                )
    shapes = [(f"{t.role} {_quote(t.artist)}", t.corners, False) for t in texts]
    shapes += [("a legend", frame, True) for _legend, frame in frames]
    for who, poly, opaque in shapes:
        xs, ys = [x for x, _ in poly], [y for _, y in poly]
        for group in markers:
            # An opaque legend frame hides a marker it covers in part; a text, one it centres on.
            reach = group.radius * (1.0 if opaque else 0.0)
            x, y = group.xy[:, 0], group.xy[:, 1]
            near = (min(xs) - reach <= x) & (x <= max(xs) + reach)
            near &= (min(ys) - reach <= y) & (y <= max(ys) + reach)
            hits = [
                (float(x[i]), float(y[i]))
                for i in near.nonzero()[0]
                if _inside((x[i], y[i]), poly, TOLERANCE_PX - reach[i])
            ]
            if not hits:
                continue
            what = group.role
            if len(hits) > 1:
                what = f"{len(hits)} of " + what.replace("a marker", "the markers", 1).replace(
                    "a point", "the points", 1
                )
            fix = FIX_LEGEND_MARKER if opaque else FIX_MARKER
            problems.append(
                f'figure "{name}": {who} covers {what} (at ({hits[0][0]:.0f}, {hits[0][1]:.0f}) '
                f"px): {fix}."
            )
    return list(dict.fromkeys(problems))


def assert_no_overlaps(figures: list[Any] | None = None) -> None:
    """Raise ``FigureOverlapError`` listing the overlaps of ``figures`` (default: all open).

    A narrative notebook calls this from a hidden cell after its figures, so the page fails to
    build when a figure's text overlaps.
    """
    import matplotlib.pyplot as plt

    if figures is None:
        figures = [plt.figure(num) for num in plt.get_fignums()]
    problems = [p for fig in figures for p in overlaps(fig)]
    if problems:
        raise FigureOverlapError(
            "overlapping text in a figure (docs/_ext/figure_check.py):\n- " + "\n- ".join(problems)
        )


def checked_matplotlib_scraper(
    block: Any, block_vars: dict, gallery_conf: dict, **kwargs: Any
) -> str:
    """sphinx-gallery's matplotlib scraper, after the overlap check of every open figure.

    An overlap raises ``FigureOverlapError``: sphinx-gallery reports the example as failing,
    and the build fails at its end ("Unexpected failing examples").
    """
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import matplotlib_scraper

    try:
        assert_no_overlaps()
    except FigureOverlapError:
        plt.close("all")
        raise
    return matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)


# -- Running an example as sphinx-gallery does, cell by cell ------------------------------------


@dataclass
class Cell:
    """One code cell of an example after it ran: what it printed and its last value's repr."""

    lineno: int
    code: str
    stdout: str
    repr_html: str | None = None
    repr_text: str | None = None


def _last_repr(value: Any) -> tuple[str | None, str | None]:
    """sphinx-gallery's default ``capture_repr``: ``_repr_html_``, else ``__repr__``."""
    if value is None:
        return None, None
    import re

    if re.search(r"matplotlib\..*(text|axes)", str(type(value))):  # ignore_repr_types default
        return None, None
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        with contextlib.suppress(Exception):
            out = html()
            if isinstance(out, str):
                return out, None
    text = repr(value)
    return None, (None if text == "None" else text)


def run_example(path: str | Path, after_cell: Callable[[Cell], None] | None = None) -> list[Cell]:
    """Run a gallery example cell by cell, in its folder, as sphinx-gallery does.

    Parameters
    ----------
    path
        The example script (``examples/<dir>/plot_*.py``).
    after_cell
        Called after each code cell with the figures of that cell still open (they are closed
        next, as sphinx-gallery's scraper does).

    Returns
    -------
    list of Cell
        Each code cell with its printed output.
    """
    import importlib.util

    os.environ.setdefault("MPLBACKEND", "agg")
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    path = Path(path).resolve()
    _, blocks, _ = split_code_and_text_blocks(str(path), return_node=True)
    main = importlib.util.module_from_spec(importlib.util.spec_from_loader("__main__", None))
    namespace = main.__dict__
    namespace["__doc__"] = ""
    cells = []
    cwd, argv, sys_path = os.getcwd(), sys.argv[:], sys.path[:]
    os.chdir(path.parent)
    sys.argv = [str(path)]
    sys.path.append(str(path.parent))
    try:
        for block in blocks:
            if block.type != "code":
                continue
            tree = compile(
                "\n" * (block.lineno - 1) + block.content, str(path), "exec", ast.PyCF_ONLY_AST
            )
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(tree, str(path), "exec"), namespace)
                    value = None
                    if last is not None:
                        expr = ast.Expression(last.value)
                        value = eval(compile(expr, str(path), "eval"), namespace)
            except BaseException:
                sys.stderr.write(out.getvalue())
                raise
            repr_html, repr_text = _last_repr(value) if last is not None else (None, None)
            cell = Cell(block.lineno, block.content, out.getvalue(), repr_html, repr_text)
            cells.append(cell)
            if after_cell is not None:
                after_cell(cell)
            plt.close("all")
    finally:
        os.chdir(cwd)
        sys.argv, sys.path = argv, sys_path
    return cells


def check_example(path: str | Path) -> list[str]:
    """Run an example and return the overlaps of every figure it shows."""
    import matplotlib.pyplot as plt

    problems: list[str] = []

    def check(cell: Cell) -> None:
        for num in plt.get_fignums():
            problems.extend(
                f"{Path(path).name} (cell at line {cell.lineno}): {p}"
                for p in overlaps(plt.figure(num))
            )

    run_example(path, check)
    return problems


def main(argv: list[str]) -> int:
    """Command line: check every figure of each example given; 1 if any overlaps."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    os.environ["MPLBACKEND"] = "agg"
    failures = 0
    for name in argv:
        problems = check_example(name)
        if problems:
            failures += len(problems)
            print(f"{name}: {len(problems)} overlap(s)")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"{name}: no overlapping text")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
