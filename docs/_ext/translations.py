"""The site's translations: Simplified Chinese at ``build/html/zh_CN/`` beside the English root.

conf.py loads this extension for every build. It does these things, all explained in
``docs/translating.md``:

1. a language switch in the navbar of every page, linking to the *same* page in the other
   language (``templates/language-switch.html``);
2. a translation build executes nothing: it shows the gallery pages and the notebook outputs
   that the English build of the same run left behind;
3. API docstrings stay English: the text that autodoc reads from ``src/devicelab`` is kept out of
   the catalogues (the API page's own prose is translated);
4. sphinx-gallery's "Total running time" line becomes one message that does not change with
   every run, so the catalogue is not stale after each build;
5. the Chinese search works in the browser (a Sphinx 9.0 bug, below);
6. a translated paragraph can show glued values (``{glue:text}`key```), as the English does;
7. the gallery's cards show each example's translated title and summary: sphinx-gallery writes
   them into raw HTML, which no catalogue reaches, so they are taken from the translated page;
8. printed output reads in the translation's language, with the English run's values: each
   printed line is matched to its template and re-filled (``docs/_ext/printed.py``);
9. figures show their translated twin, drawn by the English run from the same data
   (``docs/_ext/translated_figures.py``).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import printed
import translated_figures
from babel.messages.pofile import read_po
from docutils import nodes
from myst_nb.ext.glue import directives as glue_directives
from myst_nb.ext.glue import roles as glue_roles
from myst_nb.ext.glue import utils as glue_utils
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.search.zh import SearchChinese
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx_gallery.directives import imgsgnode

# The root language first: it is built at build/html/, every other one at build/html/<code>/.
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
ROOT_LANGUAGE = "en"
# Sphinx's language codes and the BCP 47 tags that browsers and screen readers read.
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}
# On Read the Docs each language is its own project, served at /<slug>/<version>/.
READTHEDOCS_SLUG = {"en": "en", "zh_CN": "zh-cn"}

GALLERY_EXAMPLE = re.compile(r"auto_examples/[^/]+/plot_")
TIMING = re.compile(
    r"\*\*Total running time of the script:\*\* \((?P<minutes>\d+) minutes "
    r"(?P<seconds>[\d.]+) seconds\)"
)


def counterpart_url(
    pagename: str,
    language: str,
    target: str,
    suffix: str = ".html",
    readthedocs_version: str | None = None,
) -> str:
    """Relative URL from page ``pagename`` built in ``language`` to the same page in ``target``.

    >>> counterpart_url("auto_examples/python/plot_call_method", "en", "zh_CN")
    '../../zh_CN/auto_examples/python/plot_call_method.html'
    >>> counterpart_url("index", "zh_CN", "en")
    '../index.html'
    >>> counterpart_url("learn", "en", "zh_CN", readthedocs_version="latest")
    '../../zh-cn/latest/learn.html'
    """
    for code in (language, target):
        if code not in LANGUAGES:
            raise ValueError(f"unknown language {code!r}: add it to LANGUAGES in {__file__}")
    if readthedocs_version:  # up out of /<slug>/<version>/, into the other project's
        levels, prefix = 2, f"{READTHEDOCS_SLUG[target]}/{readthedocs_version}/"
    else:  # build/html/ and build/html/zh_CN/: up out of a translation's subfolder
        levels = 0 if language == ROOT_LANGUAGE else 1
        prefix = "" if target == ROOT_LANGUAGE else f"{target}/"
    return "../" * (pagename.count("/") + levels) + prefix + pagename + suffix


def language_code(config: Config) -> str:
    """The language this build writes, as a key of ``LANGUAGES`` (``None`` means English)."""
    code = config.language or ROOT_LANGUAGE
    if code not in LANGUAGES:
        raise ValueError(
            f"no translation {code!r} on this site: build with one of {sorted(LANGUAGES)} "
            f"(-D language=...), or add it to LANGUAGES in {__file__}"
        )
    return code


def _configure(app: Sphinx, config: Config) -> None:
    config.templates_path.append(str(Path(__file__).parent / "templates"))
    # "persistent": the theme keeps these items in the header on a phone too, not in the menu.
    persistent = config.html_theme_options.setdefault("navbar_persistent", ["search-button-field"])
    if "language-switch" not in persistent:
        persistent.append("language-switch")
    if language_code(config) != ROOT_LANGUAGE:
        # Execute once: the English build of the same run has just executed every example and
        # left the generated pages and their md5 stamps in docs/auto_examples; unchanged
        # examples are not run again. (MyST-NB's notebooks come from its execution cache.)
        config.sphinx_gallery_conf["run_stale_examples"] = False


def _share_notebook_outputs(app: Sphinx) -> None:
    """A translation writes notebook files beside the English build's, not into its HTML tree.

    MyST-NB puts them next to the output folder, which for ``build/html/zh_CN`` is inside the
    published English site.
    """
    if language_code(app.config) == ROOT_LANGUAGE or not hasattr(app.env, "mystnb_config"):
        return
    folder = Path(app.config.nb_execution_cache_path).parent / "jupyter_execute"
    app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder.resolve()))


def _constant_timing_line(app: Sphinx, docname: str, source: list[str]) -> None:
    """``(0 minutes 1.234 seconds)`` becomes substitutions, so the message stays the same."""
    message = "**Total running time of the script:** (|sg_minutes| minutes |sg_seconds| seconds)"
    match = TIMING.search(source[0])
    if match is not None:
        definitions = (
            f"\n\n.. |sg_minutes| replace:: {match['minutes']}"
            f"\n.. |sg_seconds| replace:: {match['seconds']}\n"
        )
        source[0] = source[0][: match.start()] + message + source[0][match.end() :] + definitions
    elif app.builder.name == "gettext" and GALLERY_EXAMPLE.match(docname):
        # The extraction does not execute the examples, so sphinx-gallery writes no timing
        # line; its message still belongs in the page's catalogue.
        source[0] += f"\n\n{message}\n\n.. |sg_minutes| replace:: 0\n.. |sg_seconds| replace:: 0\n"


class KeepDocstringsEnglish(SphinxTransform):
    """Mark the text autodoc read from docstrings untranslatable, before Sphinx translates.

    Docstrings are the package's reference, written next to the code: translating them would
    fork them. Their nodes come from sources named ``...:docstring of devicelab...``.
    """

    default_priority = 15  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs: object) -> None:
        for node in self.document.findall(nodes.TextElement):
            if ":docstring of " in (node.source or ""):
                node["translatable"] = False


def _language_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    language = language_code(app.config)
    suffix = context.get("file_suffix", ".html")
    readthedocs_version = (
        os.environ.get("READTHEDOCS_VERSION") if os.environ.get("READTHEDOCS") else None
    )
    context["language_links"] = [
        {
            "label": label,
            "hreflang": HTML_LANG[code],
            "url": counterpart_url(pagename, language, code, suffix, readthedocs_version),
        }
        for code, label in LANGUAGES.items()
        if code != language
    ]


# -- Glued values in translated paragraphs ------------------------------------------------------
# MyST-NB looks a glued value up through the page's document, which holds the notebook's renderer
# while the page is parsed. Sphinx parses each translated message as a small document of its own,
# where that lookup fails ("No key 'cpu_name' found in glue data for this document"). The English
# text is parsed first, so the page's renderer is remembered then, and lent to its messages.
_NOTEBOOK_RENDERER: dict[str, object] = {}  # docname: renderer, for the page being read
_retrieve_glue_data = glue_utils.retrieve_glue_data


def _retrieve_glue_data_of_page(document: nodes.document, key: str):
    docname = getattr(getattr(document.settings, "env", None), "docname", None)
    if "nb_renderer" in document:
        _NOTEBOOK_RENDERER.clear()
        _NOTEBOOK_RENDERER[docname] = document["nb_renderer"]
    elif docname in _NOTEBOOK_RENDERER:  # a translated message of that page
        document["nb_renderer"] = _NOTEBOOK_RENDERER[docname]
        try:
            return _retrieve_glue_data(document, key)
        finally:  # its nodes join the page's doctree, which must stay picklable
            del document["nb_renderer"]
    return _retrieve_glue_data(document, key)


class SearchChineseEnglishStemmer(SearchChinese):
    """Sphinx 9.0 names the browser's stemmer after ``language_name`` (``ChineseStemmer``), but
    Chinese ships the English one: every search then stops with "ChineseStemmer is not defined"
    (sphinx-doc/sphinx#14229, fixed upstream by #14416). Name the stemmer that is shipped."""

    language_name = "English"


THUMBNAIL_TITLE = re.compile(r'(<div class="sphx-glr-thumbnail-title">)(.*?)(</div>)', re.S)
THUMBNAIL_TOOLTIP = re.compile(r'(<div class="sphx-glr-thumbcontainer" tooltip=")(.*?)(">)', re.S)


def _page_title_and_summary(app: Sphinx, docname: str) -> tuple[str, str]:
    """The (translated) title of ``docname`` and the text of its first paragraph."""
    title = app.env.titles[docname].astext()
    doctree = app.env.get_doctree(docname)
    # the first paragraph of the page's own text: not sphinx-gallery's "download" note
    first = next(
        (p for p in doctree.findall(nodes.paragraph) if isinstance(p.parent, nodes.section)),
        None,
    )
    return title, first.astext() if first is not None else ""


class TranslateGalleryCards(SphinxPostTransform):
    """In a translation, give each gallery card its example's translated title and summary.

    A card is a raw ``thumbcontainer`` (the summary, as a tooltip), a ``:doc:`` link to the
    example, and a raw ``thumbnail-title``. The link names the example; both raw parts are
    rewritten from it. Runs before the links are resolved, while they still name a document.
    """

    default_priority = 5

    def run(self, **kwargs: object) -> None:
        if language_code(self.config) == ROOT_LANGUAGE:
            return
        if not self.env.docname.startswith("auto_examples/"):
            return
        container, target = None, None
        for node in self.document.findall(
            lambda n: isinstance(n, nodes.raw | addnodes.pending_xref)
        ):
            if isinstance(node, addnodes.pending_xref):
                target = node.get("reftarget", "").lstrip("/")
            elif "sphx-glr-thumbcontainer" in node.astext():
                container, target = node, None
            elif "sphx-glr-thumbnail-title" in node.astext() and container and target:
                if target in self.env.titles:
                    title, summary = _page_title_and_summary(self.app, target)
                    _replace_raw(container, THUMBNAIL_TOOLTIP, html.escape(summary, quote=True))
                    _replace_raw(node, THUMBNAIL_TITLE, html.escape(title, quote=False))
                container, target = None, None


def _replace_raw(node: nodes.raw, pattern: re.Pattern[str], text: str) -> None:
    new = pattern.sub(lambda m: m.group(1) + text + m.group(3), node.astext())
    node.children = [nodes.Text(new)]


# -- Printed output -----------------------------------------------------------------------------
COLLAPSED = re.compile(
    r'(<details class="devicelab-collapsed"><summary>)(.*?)(</summary><pre>)(.*?)(</pre>)', re.S
)


def printed_catalogue(path: Path) -> dict[str, str]:
    """A printed-output catalogue's finished translations (not the fuzzy or empty ones)."""
    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def is_printed_output(node: nodes.Node) -> bool:
    """sphinx-gallery's script output, or a notebook cell's text output."""
    while node is not None and not isinstance(node, nodes.document):
        classes = node.get("classes", []) if isinstance(node, nodes.Element) else []
        if "sphx-glr-script-out" in classes or "output" in classes:
            return True
        node = node.parent
    return False


class TranslatePrintedOutput(SphinxPostTransform):
    """In a translation, show each printed line through its translated template.

    The values are the English run's own: a line is matched against the templates of the page
    and of the package (``docs/_ext/printed.py``), and the translated template is filled with
    what was printed. Nothing is executed.
    """

    default_priority = 6

    def run(self, **kwargs: object) -> None:
        if language_code(self.config) == ROOT_LANGUAGE:
            return
        folder = (
            Path(self.env.srcdir) / self.config.locale_dirs[0] / language_code(self.config)
            / "LC_MESSAGES" / printed.FOLDER
        )  # fmt: skip
        page = printed_catalogue(folder / f"{self.env.docname}.po")
        translate = printed.translator([page, printed_catalogue(folder / f"{printed.PACKAGE}.po")])
        for block in list(self.document.findall(nodes.literal_block)):
            if is_printed_output(block):
                text = translate.text(block.astext())
                block.rawsource = text
                block.children = [nodes.Text(text)]
        for raw in list(self.document.findall(nodes.raw)):
            if "devicelab-collapsed" in raw.astext():
                new = COLLAPSED.sub(
                    lambda m: (
                        m.group(1)
                        + html.escape(translate.text(html.unescape(m.group(2))))
                        + m.group(3)
                        + html.escape(translate.text(html.unescape(m.group(4))))
                        + m.group(5)
                    ),
                    raw.astext(),
                )
                raw.children = [nodes.Text(new)]


class ShowTranslatedFigures(SphinxTransform):
    """In a translation, show each figure's twin drawn with translated text (same run, same
    data: ``docs/_ext/translated_figures.py``).

    A gallery figure's twin lies beside it; a notebook page's twins are numbered in the order
    its cell outputs show figures. Runs while the page is read.
    """

    default_priority = 880

    def apply(self, **kwargs: object) -> None:
        if language_code(self.config) == ROOT_LANGUAGE:
            return
        srcdir = Path(self.env.srcdir)
        if self.env.docname.startswith("auto_examples/"):
            # an example's figures (imgsgnode), and the gallery cards' thumbnails (image)
            for node in self.document.findall(lambda n: isinstance(n, imgsgnode | nodes.image)):
                twin = translated_figures.twin_path(node["uri"])
                if (srcdir / twin.as_posix().lstrip("/")).is_file():
                    self._show(node, twin.as_posix())
            return
        shown = [image for image in self.document.findall(nodes.image) if is_cell_output(image)]
        for number, image in enumerate(shown, start=1):
            twin = translated_figures.notebook_twin(self.env.docname, number)
            if twin.is_file():
                self._show(image, "/" + os.path.relpath(twin, srcdir))

    def _show(self, node: nodes.Element, uri: str) -> None:
        """Point ``node`` at ``uri`` (``/`` + a path from the source folder). An image that
        Sphinx has already collected (a notebook's output, a card's thumbnail) is collected
        again, so that the builder copies the twin."""
        node["uri"] = uri
        if isinstance(node, nodes.image):  # as Sphinx's collector leaves it: from the source
            path = os.path.normpath(uri.lstrip("/"))
            node["uri"], node["candidates"] = path, {"*": path}
            self.env.images.add_file(self.env.docname, path)
            self.env.note_dependency(path)


def _translated_thumbnails(app: Sphinx) -> None:
    """Give each gallery card a thumbnail of its translated figure, scaled as sphinx-gallery
    scales the English one (after sphinx-gallery has run the examples)."""
    from sphinx_gallery.utils import scale_image

    size = app.config.sphinx_gallery_conf.get("thumbnail_size", (400, 280))
    for thumb in Path(app.srcdir, "auto_examples").rglob("images/thumb/sphx_glr_*_thumb.png"):
        name = thumb.name.removeprefix("sphx_glr_").removesuffix("_thumb.png")
        sources = list(Path(app.srcdir, "..", "examples").rglob(f"{name}.py"))
        chosen = THUMBNAIL_NUMBER.search(sources[0].read_text("utf-8")) if sources else None
        figure = thumb.parent.parent / f"sphx_glr_{name}_{int(chosen[1]) if chosen else 1:03d}.png"
        twin = translated_figures.twin_path(figure)
        if twin.is_file():
            scale_image(str(twin), str(translated_figures.twin_path(thumb)), *size)


THUMBNAIL_NUMBER = re.compile(r"^# sphinx_gallery_thumbnail_number = (\d+)", re.M)


def is_cell_output(node: nodes.Node) -> bool:
    """A notebook cell's output (MyST-NB's ``cell_output`` container)."""
    while node is not None and not isinstance(node, nodes.document):
        if isinstance(node, nodes.Element) and "cell_output" in node.get("classes", []):
            return True
        node = node.parent
    return False


def setup(app: Sphinx) -> dict[str, object]:
    if SearchChinese.js_stemmer_rawcode == "english-stemmer.js" and (
        SearchChinese.language_name != "English"
    ):
        app.add_search_language(SearchChineseEnglishStemmer)
    app.connect("config-inited", _configure, priority=5)  # before sphinx-gallery reads its conf
    app.connect("builder-inited", _share_notebook_outputs, priority=900)  # after MyST-NB's
    app.connect("source-read", _constant_timing_line)
    app.add_transform(KeepDocstringsEnglish)
    for module in (glue_utils, glue_roles, glue_directives):  # each imported it by name
        if getattr(module, "retrieve_glue_data", None) is _retrieve_glue_data:
            module.retrieve_glue_data = _retrieve_glue_data_of_page
    app.connect("html-page-context", _language_links)
    app.add_post_transform(TranslateGalleryCards)
    app.add_post_transform(TranslatePrintedOutput)
    app.add_transform(ShowTranslatedFigures)
    app.connect("builder-inited", _translated_thumbnails, priority=600)  # after sphinx-gallery
    return {"parallel_read_safe": True, "parallel_write_safe": True}
