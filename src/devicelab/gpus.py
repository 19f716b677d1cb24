"""A datasheet table of the GPUs readers have or rent, every figure with its source.

The figures are the vendor's own, in ``gpus.json`` next to this module (checked at import
against ``schema/gpus-v1.schema.json``), so adding a GPU edits data, not code. A figure the
vendor does not publish is ``None``, never a guess, and :attr:`GPUSpec.notes` says why. All
rates are peaks, and tensor rates are *dense* (no 2:4 sparsity, which doubles NVIDIA's headline
numbers).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

__all__ = ["FIGURES", "GPUSpec", "Source", "datasheet", "known_gpus"]

#: The figure fields of a :class:`GPUSpec`: each one a GPU has (not ``None``) is backed by at
#: least one :class:`Source` whose ``what`` names it.
FIGURES = (
    "fp32_tflops",
    "tf32_tflops",
    "fp16_tflops",
    "memory_bandwidth_gb_s",
    "memory_gb",
    "sm_count",
    "interconnect",
)

#: The JSON Schema that ``gpus.json`` must satisfy, in this package.
SCHEMA = "schema/gpus-v1.schema.json"

# Words in a device name that tell the GPUs apart no better than their absence does.
_IGNORED_WORDS = frozenset({"nvidia", "geforce", "tesla"})


@dataclass(frozen=True)
class Source:
    """Where figures come from: ``what`` names the :data:`FIGURES` it supports, then what it
    says about them, e.g. ``"fp32_tflops, sm_count (Table 1, GeForce RTX 3080)"``."""

    what: str
    title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class GPUSpec:
    """One GPU's datasheet figures, as ``gpus.json`` holds them (its schema describes each).

    Attributes
    ----------
    notes:
        What a figure means when it is not obvious (e.g. whether ``fp16_tflops`` accumulates in
        FP32), how one was worked out from the vendor's inputs, and why one is ``None``.
    """

    name: str
    aliases: tuple[str, ...]
    vendor: str
    architecture: str
    kind: str
    fp32_tflops: float | None
    tf32_tflops: float | None
    fp16_tflops: float | None
    memory_bandwidth_gb_s: float | None
    memory_gb: float | None
    sm_count: int | None
    interconnect: str
    notes: str
    sources: tuple[Source, ...]

    @property
    def peak_flops_per_s(self) -> float | None:
        """Peak FP32 (non-tensor) in FLOP/s, the unit :mod:`devicelab.roofline` uses."""
        return None if self.fp32_tflops is None else self.fp32_tflops * 1e12

    @property
    def peak_bytes_per_s(self) -> float | None:
        """Peak device-memory bandwidth in bytes/s."""
        return None if self.memory_bandwidth_gb_s is None else self.memory_bandwidth_gb_s * 1e9

    def sources_for(self, field: str) -> tuple[Source, ...]:
        """The sources behind one figure (one of :data:`FIGURES`)."""
        if field not in FIGURES:
            raise ValueError(f"{field!r} is not a figure; the figures are {', '.join(FIGURES)}")
        pattern = re.compile(rf"\b{re.escape(field)}\b")
        return tuple(source for source in self.sources if pattern.search(source.what))


def _spec(entry: dict[str, Any]) -> GPUSpec:
    """One ``gpus`` entry of the JSON file as a :class:`GPUSpec` (JSON writes 912 and 912.0
    alike: the float figures are made floats)."""
    floats = {f: None if entry[f] is None else float(entry[f]) for f in FIGURES[:5]}
    aliases = tuple(entry["aliases"])
    sources = tuple(Source(**source) for source in entry["sources"])
    return GPUSpec(**{**entry, **floats, "aliases": aliases, "sources": sources})


def _key(name: str) -> str:
    """A device name reduced to what tells GPUs apart, for matching: ``"NVIDIA
    A100-SXM4-80GB"`` -> ``"a100 sxm4 80 gb"``, ``"RTX3080Ti"`` -> ``"rtx 3080 ti"``."""
    text = name.lower()
    text = re.sub(r"\((r|tm)\)|[®™]", " ", text)
    text = re.sub(r"[-_,/]", " ", text)
    text = re.sub(r"(\d)(gb|ti|super)\b", r"\1 \2", text)
    text = re.sub(r"\brtx(\d)", r"rtx \1", text)
    return " ".join(word for word in text.split() if word not in _IGNORED_WORDS)


def _schema_error(data: Any) -> str | None:
    """What is wrong with ``data`` against ``schema/gpus-v1.schema.json``: the first problem,
    where it is (the GPU's name when it has one) and how many more; None when it is valid."""
    schema = json.loads(resources.files("devicelab").joinpath(SCHEMA).read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    path = list(errors[0].absolute_path)
    where = "/".join(map(str, path)) or "(top level)"
    if len(path) >= 2 and path[0] == "gpus" and isinstance(data["gpus"][path[1]], dict):
        where += f" ({data['gpus'][path[1]].get('name', 'an entry with no name')})"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"invalid at {where}: {errors[0].message}{more}"


def _load(data: Any) -> tuple[dict[str, GPUSpec], dict[str, str]]:
    """The table (canonical name -> spec) and the name index (key -> canonical name), checking
    what the schema cannot say: names are unambiguous, figures sourced, defaults usable.

    Raises
    ------
    ValueError
        ``data`` breaks a rule; the message says which entry, and what to fix.
    """
    problem = _schema_error(data)
    if problem:
        raise ValueError(f"gpus.json: {problem}. Fix it in devicelab/gpus.json ({SCHEMA}).")
    table = {entry["name"]: _spec(entry) for entry in data["gpus"]}
    index: dict[str, str] = {}
    for spec in table.values():
        for name in (spec.name, *spec.aliases):
            other = index.setdefault(_key(name), spec.name)
            if other != spec.name:
                raise ValueError(f"gpus.json: {name!r} names both {other!r} and {spec.name!r}")
        for field in FIGURES:
            if getattr(spec, field) is not None and not spec.sources_for(field):
                raise ValueError(
                    f"gpus.json: {spec.name} has no source for {field}: add a source whose "
                    f"'what' names it, or make {field} null"
                )
    for short, target in data["defaults"]["entries"].items():
        if target not in table or _key(short) in index:
            raise ValueError(f"gpus.json: default {short!r} -> {target!r} is not usable")
        index[_key(short)] = target
    return table, index


_TABLE, _INDEX = _load(
    json.loads(resources.files("devicelab").joinpath("gpus.json").read_text("utf-8"))
)


def _suggestions(key: str) -> list[str]:
    """Up to three canonical names close to an unknown ``key``: first the known names whose
    every word the asked name contains ("RTX 4070 Ti" -> RTX 4070), then typing slips."""
    words = set(key.split())
    contained = sorted((k for k in _INDEX if words and set(k.split()) <= words), key=len)
    close = difflib.get_close_matches(key, list(_INDEX), n=3, cutoff=0.6)
    matches = [*reversed(contained), *close]
    return list(dict.fromkeys(_INDEX[match] for match in matches))[:3]


def known_gpus() -> list[str]:
    """The canonical names of every GPU in the table, in table order."""
    return list(_TABLE)


def datasheet(name: str) -> GPUSpec:
    """The datasheet figures of the GPU called ``name``.

    ``name`` may be what ``torch.cuda.get_device_name()`` prints or what a reader types
    (``"Tesla T4"``, ``"h100"``): matching ignores case, punctuation and vendor words, then must
    match a whole name or alias, so ``"RTX 3080"`` is never the 3080 Ti. A short name that fits
    several parts resolves to the SXM part, the one rented most.

    Raises
    ------
    ValueError
        No GPU in the table has that name. The message suggests the closest known names and
        lists every known one.
    """
    key = _key(name)
    if key in _INDEX:
        return _TABLE[_INDEX[key]]
    suggestions = _suggestions(key)
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
    raise ValueError(
        f"no datasheet for GPU {name!r} (read as {key!r}).{hint} "
        f"Known GPUs: {', '.join(known_gpus())}."
    )
