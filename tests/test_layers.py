"""The package's shape: no import cycle, small modules and functions, one step, one clock.

The layers are the package docstring's (``devicelab.LAYERS``); these rules are CONTRIBUTING.md's,
checked on the source text, so a change that breaks one fails here with the place to look.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import devicelab

SRC = Path(__file__).resolve().parents[1] / "src" / "devicelab"
MODULES = sorted(SRC.rglob("*.py"))

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 90
MAX_FMT_SKIPS = 10
MAX_BACKWARD_CALLS = 3

#: Each layer may import only from layers below it (its own included), as the package docstring
#: says (devicelab.LAYERS). A module not placed there fails the test.
LAYERS = [{name for name, _ in layer.modules} for layer in devicelab.LAYERS]


def _name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("devicelab", *parts))


def _imports(path: Path) -> set[str]:
    """The devicelab modules that ``path`` imports, anywhere in it (lazy imports included)."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("devicelab"):
                for alias in node.names:  # `from . import x` imports the module x
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("devicelab")}
    return {m for m in found if m != module}


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (SRC / relative).with_suffix(".py").is_file() or (
        SRC / relative / "__init__.py"
    ).is_file()


GRAPH = {_name(p): _imports(p) for p in MODULES}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target == module.rpartition(".")[0]:
                continue  # a submodule's package is imported before it, not by it
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                visit(target, [*path, target])
        state[module] = 2

    for module in GRAPH:
        if module not in state:
            visit(module, [module])


def test_imports_flow_down_the_layers():
    layer_of = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    unplaced = sorted({_top(m) for m in GRAPH if _top(m) and _top(m) not in layer_of})
    assert not unplaced, f"modules in no layer (place them in devicelab.LAYERS): {unplaced}"
    upward = [
        f"{module} (layer {layer_of[_top(module)]}) imports {target} "
        f"(layer {layer_of[_top(target)]})"
        for module, targets in GRAPH.items()
        if _top(module)
        for target in targets
        if _top(target) and layer_of[_top(target)] > layer_of[_top(module)]
    ]
    assert not upward, "\n".join(upward)


def test_the_api_page_groups_modules_by_the_same_layers():
    """docs/api.md's "Layer N: title" sections hold the modules of devicelab.LAYERS' layer N."""
    page = (SRC.parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## Layer (\d): ([^\n]+)\n(.*?)(?=^## |\Z)", page, re.M | re.S)
    assert [int(number) for number, _, _ in sections] == list(range(1, len(LAYERS) + 1))
    for (_, title, body), layer in zip(sections, devicelab.LAYERS, strict=True):
        assert title.lower() == layer.title.lower()
        documented = set(re.findall(r"^\.\. automodule:: devicelab\.(\w+)$", body, re.M))
        placed = {name for name, _ in layer.modules if not name.startswith("_")}
        assert documented == placed, f"layer {title!r}: the page has {sorted(documented)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


def test_functions_are_short():
    long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length})")
    assert not long, "functions over 90 lines: " + ", ".join(long)


def test_the_formatter_owns_the_layout():
    skips = [
        f"{path.relative_to(SRC)}:{i}"
        for path in MODULES
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "fmt: skip" in line or "fmt: off" in line
    ]
    assert len(skips) <= MAX_FMT_SKIPS, f"{len(skips)} formatter opt-outs: {skips}"


def test_one_training_step():
    calls = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "backward"
    ]
    assert 1 <= len(calls) <= MAX_BACKWARD_CALLS, f".backward() is called in {calls}"


def test_one_clock():
    """The clock is read in the timed block and the laps, never in a hand-written block."""
    readers = sorted(
        {
            str(path.relative_to(SRC))
            for path in MODULES
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and node.attr == "perf_counter"
        }
    )
    assert readers == ["steps.py", "timing.py"], readers
