"""Each gallery figure drawn once and saved in both languages, from the same data.

sphinx-gallery's scraper (conf.py's ``image_scrapers``) saves every open figure after a code
block. Just before, :func:`scraper` saves the Chinese twin of each one, ``..._001_zh_CN.png``
beside ``..._001.png``: the same Figure object, with each text (titles, axis labels, legends,
annotations, category tick labels) put through the page's catalogue of printed templates
(``docs/_ext/printed.py``) and set in a CJK font, then restored. No data is touched, and
nothing runs twice: the plotted data of both renderings is fingerprinted, and the scraper
raises if they differ.

A sidecar ``..._001_zh_CN.json`` records, for each twin, both fingerprints and the texts of both
renderings; ``verify_translation`` reads it (figure text checked from the saved labels, not by
OCR). The Chinese build shows the twin (``translations.ShowTranslatedFigures``).

The font is Noto Sans CJK SC (SIL Open Font License 1.1), installed with the project's docs
extra through the ``mplfonts`` package (MIT), so a machine without a system CJK font draws the
same figure.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import printed
from babel.messages.pofile import read_po

LANGUAGE = "zh_CN"
#: A twin's file name: ``sphx_glr_plot_x_001.png`` -> ``sphx_glr_plot_x_001_zh_CN.png``.
SUFFIX = f"_{LANGUAGE}"
CJK_FONT = "Noto Sans CJK SC"
FONT_FILE = "NotoSansCJKsc-Regular.otf"
ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "docs" / "locales" / LANGUAGE / "LC_MESSAGES" / printed.FOLDER


def twin_path(image: str | Path) -> Path:
    """Where the Chinese rendering of ``image`` is saved."""
    image = Path(image)
    return image.with_name(image.stem + SUFFIX + image.suffix)


def font_path() -> Path:
    """The CJK font file, from the installed ``mplfonts`` package."""
    try:
        path = Path(str(resources.files("mplfonts") / "fonts" / FONT_FILE))
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "the Chinese figures need the font package mplfonts: install the docs extra "
            "(pip install -e '.[docs]', as nox -s docs does)"
        ) from error
    if not path.is_file():
        raise RuntimeError(f"mplfonts has no {FONT_FILE} at {path}: reinstall mplfonts")
    return path


def use_cjk_font() -> None:
    """Register the CJK font with matplotlib (once per process)."""
    from matplotlib import font_manager

    if CJK_FONT not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(font_path()))


def catalogue(page: str) -> printed.Translator:
    """The translator of a page's figures: its own printed templates, then the package's."""
    found = []
    for name in (page, printed.PACKAGE):
        path = CATALOGUES / f"{name}.po"
        if path.is_file():
            with open(path, "rb") as handle:
                found.append({m.id: m.string for m in read_po(handle)
                              if m.id and m.string and not m.fuzzy})  # fmt: skip
    return printed.translator(found)


def fingerprint(fig: Any) -> str:
    """A hash of everything a figure plots: lines, collections, patches and images, with their
    positions in data coordinates. Text is left out."""
    import numpy as np
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    digest = hashlib.sha256()
    for ax in fig.axes:
        for artist in ax.get_children():
            if isinstance(artist, Line2D):
                data = [artist.get_xydata()]
            elif isinstance(artist, Collection):
                data = [artist.get_offsets(), *(p.vertices for p in artist.get_paths())]
            elif isinstance(artist, Patch):
                data = [artist.get_path().vertices, artist.get_patch_transform().get_matrix()]
            elif isinstance(artist, AxesImage):
                data = [artist.get_array()]
            else:
                continue
            digest.update(type(artist).__name__.encode())
            for array in data:
                digest.update(np.ascontiguousarray(np.asarray(array, dtype=float)).tobytes())
        digest.update(repr((ax.get_xlim(), ax.get_ylim())).encode())
    return digest.hexdigest()


def texts(fig: Any) -> list[str]:
    """Every text the figure shows once drawn, tick labels included."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@contextlib.contextmanager
def translated(fig: Any, translate: printed.Translator) -> Iterator[None]:
    """The figure with its text in the translation and the CJK font; restored on exit."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    use_cjk_font()
    restore = []
    for text in fig.findobj(Text):
        original, family = text.get_text(), text.get_fontfamily()
        restore.append(lambda t=text, o=original, f=family: (t.set_text(o), t.set_fontfamily(f)))
        text.set_text(translate.text(original))
        text.set_fontfamily([CJK_FONT, *family])  # the font's own Latin glyphs, or the old font's
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, FixedFormatter):
                old = list(formatter.seq)
                formatter.seq = [translate.text(s) for s in old]
                restore.append(lambda f=formatter, o=old: setattr(f, "seq", o))
            elif isinstance(formatter, FuncFormatter):  # ax.set_yticks(ticks, labels) makes one
                axis.set_major_formatter(
                    FuncFormatter(lambda x, pos, f=formatter: translate.text(f(x, pos)))
                )
                restore.append(lambda a=axis, f=formatter: a.set_major_formatter(f))
            elif isinstance(formatter, StrCategoryFormatter):
                old_units = formatter._units
                formatter._units = {translate.text(k): v for k, v in old_units.items()}
                restore.append(lambda f=formatter, o=old_units: setattr(f, "_units", o))
            for label in axis.get_ticklabels():
                family = label.get_fontfamily()
                label.set_fontfamily([CJK_FONT, *family])
                restore.append(lambda t=label, f=family: t.set_fontfamily(f))
    try:
        yield
    finally:
        for undo in reversed(restore):
            undo()


def save_twin(fig: Any, image: str | Path, translate: printed.Translator) -> dict[str, Any]:
    """Save the Chinese rendering of ``fig`` beside ``image``, and its sidecar; return what the
    sidecar holds."""
    english_texts, english_data = texts(fig), fingerprint(fig)
    target = twin_path(image)
    with translated(fig, translate):
        from figure_check import FigureOverlapError, figure_name, overlaps

        problems = overlaps(fig)
        if problems:
            raise FigureOverlapError(
                f"the Chinese rendering of {figure_name(fig)!r} has overlapping text:\n"
                + "\n".join(problems)
            )
        chinese_texts, chinese_data = texts(fig), fingerprint(fig)
        fig.savefig(target, facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor())
    if chinese_data != english_data:
        raise RuntimeError(f"{target.name}: the Chinese rendering plots other data")
    record = {
        "image": Path(image).name,
        "twin": target.name,
        "data": {"en": english_data, LANGUAGE: chinese_data},
        "texts": {"en": english_texts, LANGUAGE: chinese_texts},
    }
    sidecar = target.with_suffix(".json")
    sidecar.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    return record


def page_of(src_file: str | Path, examples: Path) -> str:
    """``auto_examples/overheads/plot_x`` for ``examples/overheads/plot_x.py``."""
    return (
        "auto_examples/" + Path(src_file).resolve().relative_to(examples).with_suffix("").as_posix()
    )


def scraper(block: Any, block_vars: dict, gallery_conf: dict, **kwargs: Any) -> str:
    """Save each open figure's Chinese twin, then hand over to the checked English scraper."""
    import matplotlib.pyplot as plt
    from figure_check import checked_matplotlib_scraper

    numbers = plt.get_fignums()
    if numbers:
        paths = block_vars["image_path_iterator"]
        folders = gallery_conf["examples_dirs"]
        folder = folders if isinstance(folders, str) else folders[0]
        examples = Path(gallery_conf["src_dir"], folder).resolve()
        translate = catalogue(page_of(block_vars["src_file"], examples))
        for offset, number in enumerate(numbers, start=1):
            save_twin(plt.figure(number), paths.image_path.format(len(paths) + offset), translate)
    return checked_matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)


# -- Notebook pages --------------------------------------------------------------------------------
#: Where a notebook page's twins go: ``<page>_001_zh_CN.png``, numbered in the page's order
#: (one folder, so that every name is unique in the site's ``_images``).
NOTEBOOK_TWINS = ROOT / "build" / "translated_figures"
_shown: dict[str, int] = {}  # page: figures saved so far in this kernel


def notebook_twin(page: str, number: int) -> Path:
    """The Chinese twin of the ``number``-th figure (from 1) that notebook ``page`` shows."""
    return twin_path(_notebook_image(page, number))


def _notebook_image(page: str, number: int) -> Path:
    return NOTEBOOK_TWINS / f"{page.replace('/', '_')}_{number:03d}.png"


def save_notebook_twins(figures: list[Any], page: str) -> None:
    """Save the Chinese twin of each figure a notebook page has just shown, in order.

    A narrative page draws in a Jupyter kernel, which no scraper sees: the hidden cell that
    checks a figure's text (``figure_check.assert_no_overlaps``) calls this after it.
    """
    translate = catalogue(page)
    for fig in figures:
        _shown[page] = _shown.get(page, 0) + 1
        image = _notebook_image(page, _shown[page])
        image.parent.mkdir(parents=True, exist_ok=True)
        save_twin(fig, image, translate)
