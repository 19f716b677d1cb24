"""Printed output in the reader's language, from the one run: templates, matched and re-filled.

An example prints a result with an f-string::

    print(f"advised on {len(advice)} models in {elapsed:.1f} s")

The f-string *is* the template. Extraction reads it from the source (nothing runs) and puts
``advised on {len(advice)} models in {elapsed:.1f} s`` in the page's catalogue of printed
messages, where a translator writes ``{elapsed:.1f} 秒内为 {len(advice)} 个模型给出建议``.
The English build executes the example and keeps what it printed. The Chinese build executes
nothing: it matches each printed line against the page's templates, reads the values the run
filled in (``7``, ``3.2``), and writes the translated template with those same values. So both
editions show one run's numbers, and a learner's copy of the code still prints English.

- A template's fields are named by their expression as written (``{len(advice)}``), so a
  translation may reorder them, and must keep each one (``field_problems``).
- A field whose value is a constant (``{'model':<18}``, a table header) is text: it is part of
  the template, padding included.
- A printed value that is itself an English phrase (``{'within' if ok else 'outside'}``, a
  bound's name from the package) is translated when the catalogue has that phrase as a message.
- A line that matches no template stays as printed; ``verify_translation`` reports English left
  in a Chinese page's output.

Catalogues: ``docs/locales/zh_CN/LC_MESSAGES/printed/<page>.po`` per page, and
``printed/devicelab.po`` for what the package itself prints (its ``__str__`` and tables).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

#: Where a page's printed templates live, inside the language's LC_MESSAGES.
FOLDER = "printed"
#: The catalogue of what the package prints, shared by every page.
PACKAGE = "devicelab"
#: Modules whose phrases no page shows: the command line's help, the package's layer map.
NOT_SHOWN = {"__main__.py", "__init__.py"}
#: Functions of the package whose strings are printed text (tables, reports, ``__str__``).
PRINTING_FUNCTIONS = re.compile(r"^(__str__|__repr__|table|.*_table|summary.*|"
                                r"describe.*|.*_lines|report.*|render.*|explain.*|_row.*)$")  # fmt: skip
#: A word: two letters or more. A template without one has nothing to translate.
WORD = re.compile(r"[A-Za-z]{2,}")


# -- Templates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """A piece of a template: literal ``text``, or a ``field`` (its expression, as written)."""

    text: str = ""
    field: str | None = None


def parse(template: str) -> list[Part]:
    """A template's parts. ``{{`` and ``}}`` are literal braces; ``{...}`` is a field.

    >>> [p.field or p.text for p in parse("x{a:>{w}}y {{z}}")]
    ['x', 'a:>{w}', 'y {z}']
    """
    parts: list[Part] = []
    literal, i = [], 0
    while i < len(template):
        char = template[i]
        if template.startswith("{{", i) or template.startswith("}}", i):
            literal.append(char)
            i += 2
            continue
        if char == "{":
            depth, j = 1, i + 1
            while j < len(template) and depth:
                depth += {"{": 1, "}": -1}.get(template[j], 0)
                j += 1
            if depth:
                raise ValueError(f"unclosed field in template {template!r}")
            if literal:
                parts.append(Part("".join(literal)))
                literal = []
            parts.append(Part(field=template[i + 1 : j - 1]))
            i = j
            continue
        literal.append(char)
        i += 1
    if literal:
        parts.append(Part("".join(literal)))
    return parts


def fields(template: str) -> list[str]:
    """The template's fields, in order."""
    return [p.field for p in parse(template) if p.field is not None]


def field_problems(english: str, translation: str) -> list[str]:
    """How a translated template breaks the English one: a field lost, added or changed."""
    wanted, got = sorted(fields(english)), sorted(fields(translation))
    problems = [f"field {{{f}}} is missing" for f in wanted if wanted.count(f) > got.count(f)]
    problems += [f"field {{{f}}} is not in the English" for f in got if f not in wanted]
    return sorted(set(problems))


def escape(text: str) -> str:
    """Literal text as template text: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True)
class Template:
    """One printed line's template, and the regular expression that finds its printed lines."""

    text: str

    @cached_property
    def parts(self) -> list[Part]:
        return parse(self.text)

    @cached_property
    def literal_length(self) -> int:
        return sum(len(p.text.strip()) for p in self.parts)

    def _regex(self, inside: bool) -> str:
        pieces = []
        for index, part in enumerate(self.parts):
            if part.field is None:  # alignment padding differs with a value's width: any run
                chunks = re.split(r" {2,}", part.text)
                pieces.append(" +".join(re.escape(chunk) for chunk in chunks))
                continue
            spec = format_spec(part.field)
            width = ALIGNED.match(spec)
            edge = index in (0, len(self.parts) - 1)
            if NUMERIC.search(spec):  # {t:.2f}, {n:,}, {share:.0%}: a number, padded or not
                pieces.append(f"(?P<f{index}> *[-+]?[\\d,.]+(?:e[-+]?\\d+)?%?)")
            elif width is not None:  # a padded value takes at least its width: "first tensor  "
                pieces.append(f"(?P<f{index}>.{{{width['width']},}}?)")
            elif inside and edge:  # in a longer line, a value at the edge is one word
                pieces.append(f"(?P<f{index}>\\S+)")
            elif inside:
                pieces.append(f"(?P<f{index}>.*?)")
            else:  # a value holds no "; ": that joins several items, each a line of its own
                pieces.append(f"(?P<f{index}>(?:(?!; ).)*?)")
        return "".join(pieces)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The whole printed line."""
        return re.compile(self._regex(inside=False) + r"\Z", re.S)

    @cached_property
    def inline_pattern(self) -> re.Pattern[str]:
        """The template as a piece of a longer line (text the package joins: ``doctor``). A
        piece that ends in punctuation after its last value (``{per}.``) ends the line."""
        last = self.parts[-1] if self.parts else Part()
        ends_line = last.field is None and last.text.strip() and not WORD.search(last.text)
        return re.compile(self._regex(inside=True) + (r"(?=\s*\Z)" if ends_line else ""))

    def values(self, found: re.Match[str]) -> dict[str, str]:
        return {
            part.field: found.group(f"f{index}").strip()
            for index, part in enumerate(self.parts)
            if part.field is not None
        }

    def match(self, line: str) -> dict[str, str] | None:
        """The printed value of each field, if ``line`` is this template filled in."""
        found = self.pattern.match(line)
        return None if found is None else self.values(found)


#: The units a printed value may carry (``12.3 µs``): each edition writes its own.
UNITS = ("ns", "µs", "us", "ms", "s", "GB/s", "GFLOP/s", "TFLOP/s", "B", "KiB", "MiB", "GiB")
QUANTITY = re.compile(r"^(?P<number>[-+]?[\d,.]+(?:e[-+]?\d+)?) ?(?P<unit>\S+)$")


def value_text(
    value: str, phrases: Mapping[str, str], nested: Callable[[str], str] | None = None
) -> str:
    """A printed value in the translation: a known phrase translated, a unit in its own form, a
    value that is itself a filled template (``nested``) re-filled, and the padding around it
    and a full stop after it kept."""
    core = value.strip()
    stop = core[-1] if core[-1:] in (".", ",", ";") and len(core) > 1 else ""
    word = core[: len(core) - len(stop)]
    if not word:
        return value
    if core in phrases:
        return value.replace(core, phrases[core], 1)
    if word in phrases:
        return value.replace(core, phrases[word] + stop, 1)
    quantity = QUANTITY.match(word)
    if quantity and quantity["unit"] in UNITS and quantity["unit"] in phrases:
        return value.replace(core, f"{quantity['number']} {phrases[quantity['unit']]}{stop}", 1)
    if nested is not None and WORD.search(word):
        return value.replace(core, nested(core), 1)
    return value


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: A format spec that prints a number: a presentation type (``.2f``, ``d``, ``%``) or grouping.
NUMERIC = re.compile(r"[,_]|[bdeEfFgGnoxX%]$")
ALIGNED = re.compile(r"^(?:(?P<fill>.)?(?P<align>[<>^=]))?[-+ ]?z?#?0?(?P<width>\d+)")


def format_spec(field: str) -> str:
    """The format spec of a field (``x:<10`` gives ``<10``), or "" if it has none."""
    depth, quote = 0, None
    for i, char in enumerate(field):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return field[i + 1 :]
        elif char == "!" and depth == 0 and field[i + 1 : i + 2] != "=":
            return field[i + 3 :] if field[i + 2 : i + 3] == ":" else ""
    return ""


def pad(text: str, field: str) -> str:
    """``text`` padded to the field's width (``{x:<10}``), counted in display columns, so that
    a table's columns stay aligned when a cell holds Chinese."""
    found = ALIGNED.match(format_spec(field))
    if found is None:
        return text
    missing = int(found["width"]) - display_width(text)
    if missing <= 0:
        return text
    fill_char = found["fill"] or " "
    align = found["align"] or ("<" if re.search(r"[^\d\s.,:%+-]", text) else ">")
    if align == "<":
        return text + fill_char * missing
    if align == "^":
        return fill_char * (missing // 2) + text + fill_char * (missing - missing // 2)
    return fill_char * missing + text


def fill(
    template: str,
    values: Mapping[str, str],
    phrases: Mapping[str, str],
    nested: Callable[[str], str] | None = None,
) -> str:
    """``template`` with each field replaced by its printed value (see :func:`value_text`),
    padded as the field's format asks."""
    return "".join(
        part.text
        if part.field is None
        else pad(value_text(values[part.field], phrases, nested), part.field)
        for part in parse(template)
    )


# -- Extraction from source ----------------------------------------------------------------------
def _spec(spec: ast.expr | None) -> str:
    if spec is None:
        return ""
    assert isinstance(spec, ast.JoinedStr)
    return ":" + "".join(
        escape(v.value) if isinstance(v, ast.Constant) else "{" + _field_source(v) + "}"
        for v in spec.values
    )


def _field_source(node: ast.FormattedValue) -> str:
    conversion = f"!{chr(node.conversion)}" if node.conversion != -1 else ""
    return ast.unparse(node.value) + conversion + _spec(node.format_spec)


def _constant_field(node: ast.FormattedValue) -> str | None:
    """The text a field prints if its value is a constant (``{'model':<18}``), else None."""
    if not isinstance(node.value, ast.Constant) or node.conversion != -1:
        return None
    spec = node.format_spec
    if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
        return None
    text_spec = "".join(v.value for v in spec.values) if spec is not None else ""
    return format(node.value.value, text_spec)


def template_of(node: ast.expr) -> str:
    """The template text an expression prints: f-strings and constants as written, and any
    other expression as one field."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return escape(node.value)
    if isinstance(node, ast.JoinedStr):
        out = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                out.append(escape(value.value))
            elif (constant := _constant_field(value)) is not None:
                out.append(escape(constant))
            else:
                out.append("{" + _field_source(value) + "}")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return template_of(node.left) + template_of(node.right)
    return "{" + ast.unparse(node) + "}"


#: Figure text: the calls whose argument (by position) a figure shows.
FIGURE_TEXT = {"set_title": 0, "set_xlabel": 0, "set_ylabel": 0, "suptitle": 0, "supxlabel": 0,
               "supylabel": 0, "set_text": 0, "annotate": 0, "text": 2, "figtext": 2}  # fmt: skip
#: ... and the keywords, in any call (``ax.plot(..., label=...)``, ``ax.legend(title=...)``).
FIGURE_KEYWORDS = {"label", "title", "labels", "tick_label"}
TICK_LABELS = {"set_xticklabels", "set_yticklabels", "bar", "barh", "plot", "scatter"}


def _strings(node: ast.expr) -> list[ast.expr]:
    """The items of a list or tuple display (tick labels), or the node itself."""
    return list(node.elts) if isinstance(node, ast.List | ast.Tuple) else [node]


def shown_templates(node: ast.Call) -> list[str]:
    """The templates a call prints or draws: ``print(...)``, ``Collapsed(summary, ...)``'s
    summary, and figure text (titles, labels, legends, annotations, category tick labels)."""
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    found: list[ast.expr] = []
    if name == "print" and node.args:
        sep = next((k.value for k in node.keywords if k.arg == "sep"), ast.Constant(" "))
        joiner = escape(sep.value) if isinstance(sep, ast.Constant) else " "
        combined = [""]
        for index, arg in enumerate(node.args):
            prefix = joiner if index else ""
            combined = [c + prefix + t for c in combined for t in templates_of(arg)]
        return combined
    if name == "Collapsed" and node.args:
        found.append(node.args[0])
    if name in FIGURE_TEXT and len(node.args) > FIGURE_TEXT[name]:
        found.append(node.args[FIGURE_TEXT[name]])
    if name in TICK_LABELS and node.args:  # ax.bar(["CPU", "GPU"], ...): categories are labels
        found += [item for item in _strings(node.args[0])
                  if isinstance(item, ast.Constant) and isinstance(item.value, str)]  # fmt: skip
    for keyword in node.keywords:
        if keyword.arg in FIGURE_KEYWORDS:
            found += _strings(keyword.value)
    return [template for item in found for template in templates_of(item)]


def templates_of(node: ast.expr) -> list[str]:
    """Every template an expression may show: ``("Every" if ok else "Not every") + f" GPU..."``
    is two titles, each a template of its own."""
    if isinstance(node, ast.IfExp):
        return templates_of(node.body) + templates_of(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in templates_of(node.left) for b in templates_of(node.right)]
    return [template_of(node)]


def _phrases(node: ast.expr) -> Iterator[str]:
    """English words a field may print: the constant branches of ``a if c else b``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.IfExp):
            for branch in (sub.body, sub.orelse):
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    yield escape(branch.value)


def line_templates(template: str) -> list[str]:
    """The lines of a template that carry words to translate (a template may print several)."""
    return [line.strip("\n") for line in template.split("\n")
            if WORD.search("".join(p.text for p in parse(line)))]  # fmt: skip


def example_templates(source: str) -> list[str]:
    """Every template an example (or a notebook's code) prints or draws, in source order, once;
    and the words its module-level tables name (``NAMES = {"iris_mlp": "Iris MLP"}``)."""
    found: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for template in shown_templates(node):
                found += line_templates(template)
            if shown_templates(node):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    found += [p for p in _phrases(arg) if WORD.search(p)]
    found += [escape(text) for text in value_words(tree)]
    found += [escape(text) for text in phrases_in(tree)]
    found += shown_f_strings(tree)
    # ... and the words handed to the example's own helpers: which(x, y, "slower than", ...)
    helpers = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in helpers:
            found += [escape(a.value) for a in node.args
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)
                      and WORD.search(a.value) and not KEY.fullmatch(a.value)]  # fmt: skip
    return list(dict.fromkeys(found))


def shown_f_strings(tree: ast.AST) -> list[str]:
    """The templates of every f-string that builds text to show (a piece joined into a line, a
    helper's return, a reason appended to a list), nested ones too
    (``f"{'; '.join(f'{b} at {lo:,}' ...)}"``); not errors, warnings, assertions or keys."""
    keys = [node for node in ast.walk(tree) if isinstance(node, ast.Raise | ast.Assert)]
    keys += [n.slice for n in ast.walk(tree)
             if isinstance(n, ast.Subscript) and not isinstance(n.ctx, ast.Store)]  # fmt: skip
    keys += [arg for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", getattr(n.func, "id", "")) in KEY_METHODS | NOT_TEXT
             for arg in [*n.args, *(k.value for k in n.keywords)]]  # fmt: skip
    hidden = {id(sub) for node in keys for sub in ast.walk(node)}
    return [template
            for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) and id(node) not in hidden
            for template in line_templates(template_of(node))]  # fmt: skip


#: Calls whose strings are not shown on a page: attribute names, warnings, files and logs.
NOT_TEXT = {"getattr", "hasattr", "setattr", "warn", "open", "Path", "debug", "info", "run",
            "Popen", "check_output", "environ", "write_text"}  # fmt: skip


def phrases_in(tree: ast.AST) -> list[str]:
    """Every phrase (two words or more, on one line) the code holds as a string, to show in
    some line or label: a remedy's name, a doctor's fix, a bar's label. Not docstrings, error
    messages, assertions, keys, comparisons, or styling keywords (``loc="lower right"``)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        documented = isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        if documented and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # the docstring
        hidden: list[ast.AST] = []
        if isinstance(node, ast.Raise | ast.Assert | ast.Compare | ast.JoinedStr):
            hidden = [node]
        elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Store):
            hidden = [node.slice]  # a key read; bars["CPU, live"] = ... names a bar
        elif isinstance(node, ast.Call):
            hidden = [k.value for k in node.keywords if k.arg not in FIGURE_KEYWORDS | {"name"}]
            if getattr(node.func, "attr", "") in KEY_METHODS | {"warn"}:
                hidden += node.args
        skip |= {id(sub) for h in hidden for sub in ast.walk(h)}
    return [
        line  # a label of two lines is two phrases, as the figure's text is matched by line
        for node in ast.walk(tree)
        if id(node) not in skip and isinstance(node, ast.Constant) and isinstance(node.value, str)
        for line in node.value.split("\n")
        if " " in line.strip() and len(WORD.findall(line)) >= 2
    ]


#: A key or a name, not words: ``iris_mlp``, ``fc1.weight``, ``cuda:0``, ``tab:blue``.
KEY = re.compile(r"[\w.:/-]*[_.:\d][\w.:/-]*")


def value_words(tree: ast.AST) -> list[str]:
    """Words code keeps to print later as values: what it assigns or returns
    (``verdict = "faster" if ... else "slower"``, ``label = "never"``), table values
    (``NAMES = {"iris_mlp": "Iris MLP"}``) and fallbacks (``source or "not recorded"``)."""
    holders: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.Return) and node.value is not None:
            holders.append(node.value)
        elif isinstance(node, ast.IfExp):
            holders += [node.body, node.orelse]
        elif isinstance(node, ast.BoolOp):
            holders += node.values
    words = []
    for holder in holders:
        items = [holder]
        if isinstance(holder, ast.Dict):
            items = [v for v in holder.values if v is not None]
        elif isinstance(holder, ast.List | ast.Tuple):
            items = list(holder.elts)
        words += [item.value for item in items
                  if isinstance(item, ast.Constant) and isinstance(item.value, str)
                  and WORD.search(item.value) and "\n" not in item.value
                  and not KEY.fullmatch(item.value)]  # fmt: skip
    return words


def _not_text(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[int]:
    """The ids of a function's string nodes that are not printed text: its docstring, error
    messages, and keys (``d['runs']``, ``{'runs': ...}``, ``x == 'cpu'``, ``d.get('name')``)."""
    keys: list[ast.AST] = []
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        keys.append(body[0].value)
    for node in ast.walk(function):
        if isinstance(node, ast.Raise):
            keys.append(node)
        elif isinstance(node, ast.Subscript):
            keys.append(node.slice)
        elif isinstance(node, ast.Dict):
            keys += [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Compare):
            keys += [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in KEY_METHODS:
            keys += node.args
    return {id(sub) for key in keys for sub in ast.walk(key)}


#: Methods whose string arguments are keys or names, not text.
KEY_METHODS = {"get", "pop", "setdefault", "startswith", "endswith", "split", "replace"}


def package_templates(package: Path) -> list[str]:
    """The templates of the text the package prints: strings inside its printing functions
    (``__str__``, tables, reports), not docstrings or error messages."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not PRINTING_FUNCTIONS.match(function.name):
                continue
            skip = _not_text(function)
            inner: set[int] = set()
            for node in ast.walk(function):
                if id(node) in skip or id(node) in inner:
                    continue
                if isinstance(node, ast.JoinedStr):
                    inner |= {id(sub) for sub in ast.walk(node)}
                    found += line_templates(template_of(node))
                    found += [p for p in _phrases(node) if WORD.search(p)]
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found += line_templates(escape(node.value))
        for node in ast.walk(tree):  # figure text the package draws (explain's plot)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") != "print":
                found += [t for s in shown_templates(node) for t in line_templates(s)]
        if path.relative_to(package).as_posix() in NOT_SHOWN:
            continue
        # phrases kept to print later (a reason, a fix); single words there are mostly names
        found += [escape(w) for w in phrases_in(tree)]
        found += shown_f_strings(tree)
        # one-word values chosen by a condition: "overlapping" if ... else "and"
        found += [w for w in _phrases(tree) if WORD.search(w) and not KEY.fullmatch(w)]
    found += vocabularies(package)
    return list(dict.fromkeys(found))


#: Module-level tuples of words the package prints as values (``costmodel.BOUNDS``), and the
#: units of :data:`UNITS` that an edition writes its own way.
VOCABULARIES = {"costmodel.py": ("BOUNDS",)}
TRANSLATED_UNITS = ("µs", "us", "ms", "ns", "s")


def vocabularies(package: Path) -> list[str]:
    """The words of :data:`VOCABULARIES`, and the translated units, as phrases."""
    found: list[str] = []
    for module, names in VOCABULARIES.items():
        tree = ast.parse((package / module).read_text(encoding="utf-8"))
        for node in tree.body:
            targets = getattr(node, "targets", [getattr(node, "target", None)])
            if any(getattr(t, "id", None) in names for t in targets) and node.value is not None:
                found += [escape(c.value) for c in ast.walk(node.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)]  # fmt: skip
    return found + list(TRANSLATED_UNITS)


def notebook_code(markdown: str) -> str:
    """The code cells of a MyST-NB page, as one script."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", markdown, re.S | re.M)
    return "\n".join(re.sub(r"^:\w+:.*\n", "", cell, flags=re.M) for cell in cells)


# -- Rendering -----------------------------------------------------------------------------------
@dataclass
class Translator:
    """Re-fills printed lines with translated templates. ``catalogue`` maps English template
    (or phrase) to its translation; untranslated entries are left out of it."""

    catalogue: Mapping[str, str]

    @cached_property
    def templates(self) -> list[Template]:
        usable = [Template(t) for t in self.catalogue if fields(t) or WORD.search(t)]
        # the most specific first: a template of a few words must not claim a longer line;
        # of two as long, the one with more fields ("{name} {axis} sweep" before "{axis} sweep")
        return sorted(usable, key=lambda t: (-t.literal_length, -len(fields(t.text))))

    @cached_property
    def phrases(self) -> dict[str, str]:
        return {
            parse(t)[0].text: s for t, s in self.catalogue.items()
            if not fields(t) and parse(t)
        }  # fmt: skip

    @cached_property
    def fragments(self) -> list[tuple[str, str]]:
        """Pieces of text that the package joins into longer lines (``"  C++ compiler  "``):
        each phrase of two words or more, longest first."""
        pieces = [(e.strip(), t.strip()) for e, t in self.phrases.items()
                  if " " in e.strip() and WORD.search(e)]  # fmt: skip
        return sorted(pieces, key=lambda pair: -len(pair[0]))

    def line(self, line: str) -> str:
        """One printed line in the translation. A line that no template matches keeps its
        text, with the phrases inside it translated."""
        if not line.strip():
            return line
        body = line.rstrip()
        tail = line[len(body) :]
        # a report's bullet ("- At batch 120, ...") is not part of the sentence's template
        bullet = re.match(r"\s*(?:[-*•] )?", body).group(0)
        for template in self.templates:
            if template.literal_length == 0:
                continue
            lead, values = "", template.match(body)
            if values is None and bullet:
                lead, values = bullet, template.match(body[len(bullet) :])
            if values is not None:
                filled = fill(self.catalogue[template.text], values, self.phrases, self.line)
                return lead + self.units(filled) + tail
        for english, translation in self.fragments:
            body = body.replace(english, translation)
        for template in self.pieces:
            body = template.inline_pattern.sub(
                lambda found, t=template: fill(
                    self.catalogue[t.text], t.values(found), self.phrases, self.line
                ),
                body,
            )
        return self.units(body) + tail

    def units(self, text: str) -> str:
        """Each time unit after a number in the translation's own form (``3.1 ms`` as
        ``3.1 毫秒``), wherever a line joined it in."""
        if not self.unit_pattern:
            return text
        return self.unit_pattern.sub(lambda m: m[1] + " " + self.phrases[m[2]], text)

    @cached_property
    def unit_pattern(self) -> re.Pattern[str] | None:
        units = [u for u in TRANSLATED_UNITS if u in self.phrases and self.phrases[u] != u]
        if not units:
            return None
        return re.compile(r"(\d) ?(" + "|".join(map(re.escape, units)) + r")(?![\w/])")

    @cached_property
    def pieces(self) -> list[Template]:
        """Templates with fields that may be part of a longer line: those with a few words of
        their own (``{compiler.path} works``), longest first."""
        return [t for t in self.templates
                if fields(t.text) and WORD.search("".join(p.text for p in t.parts))]  # fmt: skip

    def text(self, text: str) -> str:
        """A block of printed output, line by line."""
        return "\n".join(self.line(line) for line in text.split("\n"))


def translator(catalogues: Iterable[Mapping[str, str]]) -> Translator:
    """One translator over several catalogues (a page's own first, then the package's)."""
    merged: dict[str, str] = {}
    for catalogue in catalogues:
        for english, translation in catalogue.items():
            merged.setdefault(english, translation)
    return Translator(merged)
