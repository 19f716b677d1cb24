"""A datasheet table of the GPUs readers have or rent, every figure with its source.

The figures are the vendor's own: NVIDIA's architecture whitepapers, datasheets and product
pages, and Apple's announcements. They live in ``gpus.json`` next to this module (read once,
at import, and checked against ``schema/gpus-v1.schema.json``), so adding a GPU edits data,
not code. A figure the vendor does not publish is
``None``, never a guess, and the entry's :attr:`GPUSpec.notes` says why; a figure worked out
from the vendor's own inputs (cores x clock, memory speed x bus width) says so there too.

All rates are peaks: what the chip can do when every unit is busy, which a real program
approaches but does not reach. Tensor rates are *dense* (no 2:4 sparsity, which doubles the
headline numbers on NVIDIA's datasheets).

>>> spec = datasheet("NVIDIA GeForce RTX 3080 Ti")  # what torch.cuda.get_device_name() prints
>>> spec.fp32_tflops, spec.memory_bandwidth_gb_s, spec.sm_count
(34.1, 912.0, 80)
>>> round(spec.peak_flops_per_s / spec.peak_bytes_per_s)  # FLOP per byte to keep the GPU busy
37
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
    """Where figures come from.

    Attributes
    ----------
    what:
        The :data:`FIGURES` it supports, then what it says about them, e.g.
        ``"fp32_tflops, sm_count (Table 1, GeForce RTX 3080)"``.
    title:
        The document: its title, and what kind of document it is.
    url:
        Where the vendor publishes it.
    """

    what: str
    title: str
    url: str

    def covers(self, field: str) -> bool:
        """Whether this source supports the figure ``field`` (one of :data:`FIGURES`)."""
        return re.search(rf"\b{re.escape(field)}\b", self.what) is not None


@dataclass(frozen=True, kw_only=True)
class GPUSpec:
    """One GPU's datasheet figures.

    Attributes
    ----------
    name:
        Canonical name, e.g. ``"NVIDIA GeForce RTX 3080 Ti"``.
    aliases:
        Shorter names readers type, e.g. ``("RTX 3080 Ti", "3080 Ti", ...)``.
    vendor:
        ``"NVIDIA"`` or ``"Apple"``.
    architecture:
        ``"Ampere"``, ``"Ada Lovelace"``, ``"Hopper"``, ``"Apple silicon (M2)"``, ...
    kind:
        ``"consumer"``, ``"data centre"`` or ``"laptop/SoC"``.
    fp32_tflops:
        Peak FP32 on the ordinary (non-tensor) cores, in TFLOP/s.
    tf32_tflops:
        Peak dense TF32 on the tensor cores, in TFLOP/s; ``None`` where the GPU has no TF32
        (Turing, Apple) or the vendor does not publish it.
    fp16_tflops:
        Peak dense FP16 on the tensor cores, in TFLOP/s: with FP32 accumulate where the vendor
        publishes that rate (GeForce cards run it at half the FP16-accumulate rate), otherwise
        the plain FP16 rate; :attr:`notes` says which. ``None`` where not published.
    memory_bandwidth_gb_s:
        Peak device-memory bandwidth, in GB/s (10\\ :sup:`9` bytes per second).
    memory_gb:
        Device memory, in GB (for Apple, the largest unified-memory option of the base chip).
    sm_count:
        Streaming multiprocessors (NVIDIA) or GPU cores (Apple, the largest configuration).
    interconnect:
        How the GPU talks to the host or its peers, e.g. ``"PCIe 4.0 x16"``,
        ``"NVLink 4 (900 GB/s)"`` or ``"unified memory (SoC)"``.
    notes:
        What a figure means when it is not obvious, how a figure was worked out from the
        vendor's inputs, and why a figure is ``None``.
    sources:
        The documents behind the figures; every figure that is not ``None`` is covered.
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
        """Peak FP32 (non-tensor) in FLOP/s, the unit :mod:`devicelab.roofline` uses.

        ``None`` where the vendor publishes no FP32 figure.
        """
        return None if self.fp32_tflops is None else self.fp32_tflops * 1e12

    @property
    def peak_bytes_per_s(self) -> float | None:
        """Peak device-memory bandwidth in bytes/s; ``None`` where it is not published."""
        if self.memory_bandwidth_gb_s is None:
            return None
        return self.memory_bandwidth_gb_s * 1e9

    def sources_for(self, field: str) -> tuple[Source, ...]:
        """The sources behind one figure (one of :data:`FIGURES`)."""
        if field not in FIGURES:
            raise ValueError(f"{field!r} is not a figure; the figures are {', '.join(FIGURES)}")
        return tuple(source for source in self.sources if source.covers(field))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, in the layout of ``gpus.json``."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "vendor": self.vendor,
            "architecture": self.architecture,
            "kind": self.kind,
            **{field: getattr(self, field) for field in FIGURES},
            "notes": self.notes,
            "sources": [{"what": s.what, "title": s.title, "url": s.url} for s in self.sources],
        }


def _number(value: float | None) -> float | None:
    """A JSON number as a float (JSON writes 912 and 912.0 alike), ``None`` kept."""
    return None if value is None else float(value)


def _spec(entry: dict[str, Any]) -> GPUSpec:
    """One ``gpus`` entry of the JSON file as a :class:`GPUSpec`."""
    return GPUSpec(
        name=entry["name"],
        aliases=tuple(entry["aliases"]),
        vendor=entry["vendor"],
        architecture=entry["architecture"],
        kind=entry["kind"],
        fp32_tflops=_number(entry["fp32_tflops"]),
        tf32_tflops=_number(entry["tf32_tflops"]),
        fp16_tflops=_number(entry["fp16_tflops"]),
        memory_bandwidth_gb_s=_number(entry["memory_bandwidth_gb_s"]),
        memory_gb=_number(entry["memory_gb"]),
        sm_count=entry["sm_count"],
        interconnect=entry["interconnect"],
        notes=entry["notes"],
        sources=tuple(Source(**source) for source in entry["sources"]),
    )


def _key(name: str) -> str:
    """A device name reduced to what tells GPUs apart, for matching.

    Lower case; ``(R)``, ``(TM)`` and the words NVIDIA, GeForce and Tesla dropped; dashes and
    underscores read as spaces; ``80GB`` read as ``80 gb``, ``RTX3080Ti`` as ``rtx 3080 ti``.

    >>> _key("NVIDIA A100-SXM4-80GB")
    'a100 sxm4 80 gb'
    >>> _key("NVIDIA GeForce RTX 3080 Ti")
    'rtx 3080 ti'
    """
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
    """The table (canonical name -> spec) and the name index (key -> canonical name).

    ``data`` is ``gpus.json``'s content. Its shape, types, and figures that are positive or
    ``None`` are the schema's (``schema/gpus-v1.schema.json``); what a schema cannot say is
    checked here: names and aliases are unambiguous, every figure that is not ``None`` has a
    source, and every default names a GPU. A broken edit of ``gpus.json`` fails at import.

    Raises
    ------
    ValueError
        ``data`` breaks one of these rules; the message says which entry, and what to fix.
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
    """Up to three canonical names close to an unknown ``key``, closest first.

    First the known names every word of which the asked name contains ("RTX 4070 Ti" ->
    RTX 4070: a variant the table lacks), longest first, then what :mod:`difflib` finds
    close (typing slips).
    """
    words = set(key.split())
    contained = sorted((k for k in _INDEX if words and set(k.split()) <= words), key=len)
    close = difflib.get_close_matches(key, list(_INDEX), n=3, cutoff=0.6)
    matches = [*reversed(contained), *close]
    return list(dict.fromkeys(_INDEX[match] for match in matches))[:3]


def known_gpus() -> list[str]:
    """The canonical names of every GPU in the table, in table order.

    >>> "NVIDIA H100 SXM" in known_gpus()
    True
    """
    return list(_TABLE)


def datasheet(name: str) -> GPUSpec:
    """The datasheet figures of the GPU called ``name``.

    ``name`` may be what ``torch.cuda.get_device_name()`` prints or what a reader types:
    matching ignores case, extra spaces, dashes, ``(R)``, ``(TM)`` and the words NVIDIA,
    GeForce and Tesla, then must match a whole name or alias. A prefix is not enough, so
    ``"RTX 3080"`` is the RTX 3080, never the 3080 Ti, and ``"RTX 4060 Laptop GPU"`` (a
    different chip) is not the desktop RTX 4060.

    A short name that fits several parts resolves to the SXM part, the one rented most:
    ``"H100"`` to the H100 SXM, ``"A100"`` and ``"A100 80GB"`` to the A100 SXM 80 GB,
    ``"A100 40GB"`` to the A100 SXM 40 GB (``"A100 PCIe"`` to the A100 PCIe 80 GB). Name the
    form factor to get another part; ``"NVIDIA H100 80GB HBM3"``, what the H100 SXM prints,
    is the SXM part by its memory (the PCIe card prints ``"NVIDIA H100 PCIe"``).

    Parameters
    ----------
    name:
        A GPU name, e.g. ``"NVIDIA A100-SXM4-80GB"``, ``"Tesla T4"``, ``"h100"``,
        ``"Apple M2"``.

    Returns
    -------
    GPUSpec
        The GPU's figures and their sources.

    Raises
    ------
    ValueError
        If no GPU in the table has that name. The message repeats the name, suggests the
        closest known names and lists every known one.

    Examples
    --------
    >>> datasheet("NVIDIA H100 80GB HBM3").name
    'NVIDIA H100 SXM'
    >>> datasheet("h100").name
    'NVIDIA H100 SXM'
    >>> datasheet("RTX 3080").sm_count, datasheet("RTX 3080 Ti").sm_count
    (68, 80)
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
