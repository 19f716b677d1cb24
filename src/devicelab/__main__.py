"""Command line: ``python -m devicelab report``, ``bench``, ``advise``, ``validate`` and
``doctor``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _gib(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 2**30:.1f} GiB"


def _mib(n: int | None) -> str:
    return "unknown" if not n else f"{n / 2**20:.0f} MiB"


def format_report(report: dict) -> str:
    """The machine report as readable text."""
    cpu = report["cpu"]
    lines = [
        f"Platform      {report['platform']}",
        f"Python/torch  {report['python']} / torch {report['torch']}"
        + (f", CUDA {report['cuda']}" if report["cuda"] else "")
        + (f", ROCm/HIP {report['hip']}" if report["hip"] else ""),
        "",
        "CPU",
        f"  model         {cpu['model_name'] or '(not reported)'}",
        f"  vendor        {cpu['vendor']} ({cpu['machine']}"
        + (
            f", family {cpu['family']} model {cpu['model']} stepping {cpu['stepping']}"
            if cpu["family"] is not None
            else ""
        )
        + ")",
        f"  generation    {cpu['generation']}",
        f"  microarch     {cpu['microarchitecture']} (archspec: newest target its flags allow)",
        f"  cores         {cpu['physical_cores']} physical, {cpu['logical_cpus']} logical "
        f"({cpu['threads_per_core']} thread(s) per core)",
        f"  usable        {cpu['usable_cpus']} CPU(s) for this process"
        + (
            f" (cgroup quota {cpu['cpu_quota']:g} CPUs)"
            if cpu["cpu_quota"]
            else " (no cgroup quota)"
        ),
        f"  extensions    {', '.join(cpu['isa_extensions']) or '(none notable)'}",
        f"  torch         kernels for {cpu['torch_cpu_capability']}, {cpu['torch_threads']} intra-op threads",
        "",
    ]
    if not report["gpus"]:
        lines.append("GPU           none that torch can use (CPU-only build, or no device)")
    for gpu in report["gpus"]:
        cc = gpu["compute_capability"]
        link = (
            f"PCIe Gen{gpu['pcie_generation']} x{gpu['pcie_width']} now"
            + (
                f" (max Gen{gpu['pcie_max_generation']} x{gpu['pcie_max_width']})"
                if gpu.get("pcie_max_generation")
                else ""
            )
            if gpu["pcie_generation"]
            else "PCIe link unknown (no NVML)"
        )
        lines += [
            f"GPU {gpu['index']} ({gpu['backend']})",
            f"  name          {gpu['name']}",
            f"  architecture  {gpu['architecture']}"
            + (f" (compute capability {cc[0]}.{cc[1]})" if cc else ""),
            f"  tier          {gpu['tier']}",
            f"  memory        {_gib(gpu['total_memory_bytes'])} total, {_gib(gpu['free_memory_bytes'])} free",
            f"  compute units {gpu['multiprocessors'] or 'unknown'}; L2 {_mib(gpu['l2_cache_bytes'])}",
            f"  link          {link}",
        ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devicelab", description="CPU vs GPU, explained and measured."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="describe this machine's CPU and GPUs")
    report.add_argument("--json", action="store_true", help="print the facts as JSON")
    bench = commands.add_parser("bench", help="measure the overheads on this machine")
    bench.add_argument(
        "--device", default="auto", help='"auto" (default), "cpu", "cuda", "cuda:N", "mps"'
    )
    bench.add_argument(
        "--quick", action="store_true", help="2,000 epochs and short sweeps (under a minute)"
    )
    bench.add_argument("--out", help="write the recorded-results JSON here")
    bench.add_argument("--only", nargs="+", metavar="SECTION", help="measure only these sections")
    advise = commands.add_parser(
        "advise",
        help="CPU or GPU for your model: measured, explained, and predicted for a recorded GPU",
    )
    advise.add_argument(
        "factory",
        metavar="MODULE:CALLABLE",
        help="a callable that returns the model, e.g. devicelab.zoo:lenet5",
    )
    advise.add_argument(
        "--input-shape",
        required=True,
        action="append",
        metavar="N,D,...",
        help="shape of a random float32 input, batch first (repeat for several inputs)",
    )
    advise.add_argument(
        "--classes",
        type=int,
        help="targets are random class indices below N (default: the model's output width)",
    )
    advise.add_argument(
        "--inference",
        action="store_true",
        help="advise on the forward pass only (no loss, backward or optimizer)",
    )
    advise.add_argument("--batch", metavar="B,B,...", help="batch sizes for the batch test")
    advise.add_argument("--json", action="store_true", help="print the advice as JSON")
    advise.add_argument(
        "--record",
        metavar="FILE",
        help="a GPU results file to predict from (default: the recorded GPU); ignored when a "
        "CUDA GPU is present: that GPU is measured, not predicted",
    )
    advise.add_argument(
        "--gpu",
        metavar="NAME",
        help="a GPU from the datasheet table to predict, e.g. 'RTX 3080 Ti' or 'H100 SXM'; "
        "ignored when a CUDA GPU is present: that GPU is measured, not predicted",
    )
    doctor = commands.add_parser(
        "doctor",
        help="check this machine for devicelab: what is missing, why it matters, the fix "
        "(exit 0: no problem, 1: problems, 2: the check failed)",
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    validate = commands.add_parser(
        "validate",
        help="check results files against their schema (what CI runs on a contributed record)",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="results JSON files")
    return parser


def _validate(args: argparse.Namespace) -> int:
    from .results import ResultsError, load_results, provenance

    failed = 0
    for path in args.files:
        try:
            record = load_results(path)
        except ResultsError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok  {path}: schema v{record['schema_version']}, {provenance(record)}")
    return 2 if failed else 0


def _advise(args: argparse.Namespace) -> int:
    from .advise import advise_command

    try:
        advice = advise_command(
            args.factory,
            args.input_shape,
            classes=args.classes,
            batch=args.batch,
            record=args.record,
            gpu=args.gpu,
            inference=args.inference,
        )
    except (ValueError, RuntimeError, TypeError, ImportError, AttributeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(advice.to_dict(), indent=2) if args.json else advice)
    return 0


def _report(args: argparse.Namespace) -> int:
    from .hardware import machine_report

    facts = machine_report()
    print(json.dumps(facts, indent=2) if args.json else format_report(facts))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import SECTIONS, BenchError, run_bench, summary_table
    from .results import save_results

    try:
        sections = tuple(args.only) if args.only else SECTIONS
        record = run_bench(
            args.device,  # resolved there: an unknown or absent device raises below
            quick=args.quick,
            sections=sections,
            progress=lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True),
        )
    except BenchError as error:  # what was measured before the failure is kept
        print(f"error: {error}", file=sys.stderr)
        if args.out:
            print(
                f"wrote a partial record: {save_results(error.record, args.out)}", file=sys.stderr
            )
        return 2
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary_table(record))
    if args.out:
        print(f"\nwrote {save_results(record, args.out)}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose

    try:
        diagnosis = diagnose()
    except Exception as error:  # any failure of the check itself is exit 2, with its cause
        print(f"doctor: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(diagnosis.to_dict(), indent=2) if args.json else diagnosis)
    return diagnosis.exit_code


_COMMANDS = {
    "validate": _validate,
    "advise": _advise,
    "report": _report,
    "bench": _bench,
    "doctor": _doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m devicelab`` (and the ``devicelab`` script)."""
    args = _parser().parse_args(argv)
    return _COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
