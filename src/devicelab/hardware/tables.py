"""The lookup tables behind :mod:`devicelab.hardware`, read once from ``tables.json`` (so
adding a CPU or GPU edits data), turned back into the ints and tuples JSON cannot hold."""

from __future__ import annotations

import json
import re
from importlib import resources


def _code(text: str) -> int:
    """A hex code such as ``"0x55"``, as an int."""
    return int(text, 16)


_TEXT = resources.files("devicelab.hardware").joinpath("tables.json").read_text("utf-8")
# Each table's entries, by table name (the "_about" texts are for readers only)
_ENTRIES = {
    name: table["entries"] for name, table in json.loads(_TEXT).items() if not name.startswith("_")
}

NOTABLE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    family: tuple(extensions) for family, extensions in _ENTRIES["notable_extensions"].items()
}
INTEL_FAMILY6_MODELS: dict[int, str] = {
    _code(model): label for model, label in _ENTRIES["intel_family6_models"].items()
}
INTEL_STEPPING_REFINEMENTS: dict[int, tuple[tuple[int, str], ...]] = {
    _code(model): tuple((int(stepping), label) for stepping, label in refinements)
    for model, refinements in _ENTRIES["intel_stepping_refinements"].items()
}
AMD_MODELS: tuple[tuple[int, int, int, str], ...] = tuple(
    (_code(family), _code(first), _code(last), label)
    for family, first, last, label in _ENTRIES["amd_models"]
)
ARM_IMPLEMENTERS: dict[int, str] = {
    _code(implementer): vendor for implementer, vendor in _ENTRIES["arm_implementers"].items()
}
ARM_PARTS: dict[tuple[int, int], str] = {
    (_code(implementer), _code(part)): label
    for implementer, parts in _ENTRIES["arm_parts"].items()
    for part, label in parts.items()
}
MICROARCH_LABELS: dict[str, str] = dict(_ENTRIES["microarch_labels"])
CUDA_ARCHITECTURES: dict[tuple[int, int], str] = {
    tuple(map(int, capability.split("."))): name  # "8.9" -> (8, 9)
    for capability, name in _ENTRIES["cuda_architectures"].items()
}
ROCM_ARCHITECTURES: dict[str, str] = dict(_ENTRIES["rocm_architectures"])
# Compiled here so that a broken pattern in the JSON fails at import, not at the first lookup.
TIER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (tier, re.compile(pattern)) for tier, pattern in _ENTRIES["tier_patterns"]
)
