"""Check devicelab.advise's GPU predictions against a measured GPU, for a results record.

For each model of the "Your own model" page it runs ``advise`` twice on this machine: on the
CPU alone, which predicts the GPU step from the *previous* record (``--against``), and on the
GPU, which measures it. The comparison is stored in ``measurements.advice`` of the new record
(``RECORD``, written by ``python -m devicelab bench --device cuda --out RECORD``), which is then
saved again, validated. On a machine with no GPU the measured side is None and says why.

Usage: python results/advise_check.py RECORD [--against OLD_RECORD] [--quick] [--models NAME ...]

``--quick`` calibrates with the quick sweeps (``advise(..., quick_calibration=True)``):
``bash results/record.sh --dry-run`` passes it, where the CPU stands in for the GPU and the
sweeps sized for a GPU would be slow. A GPU session calibrates in full. ``--models`` checks
only the models named (default: all of them; the dry run's test checks one, to stay short).
"""

from __future__ import annotations

import argparse
import sys

import torch

from devicelab import zoo
from devicelab.advise import advise
from devicelab.results import load_results, provenance, recorded_results, save_results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", help="the new results file; gains measurements.advice")
    parser.add_argument("--against", help="the record to predict from (default: the newest "
                        "GPU record shipped with devicelab)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="calibrate with the quick sweeps "
                        "(a dry run under the CUDA stand-in)")  # fmt: skip
    parser.add_argument("--models", nargs="+", choices=list(zoo.EXAMPLE_SHAPES),
                        default=list(zoo.EXAMPLE_SHAPES), metavar="NAME",
                        help="the models to check (default: all of them)")  # fmt: skip
    args = parser.parse_args()
    new = load_results(args.record)
    old = load_results(args.against) if args.against else next(iter(recorded_results("cuda")))
    gpu = "cuda" if torch.cuda.is_available() else None
    models = []
    for name in args.models:
        shape, classes = zoo.EXAMPLE_SHAPES[name]
        torch.manual_seed(0)
        model = getattr(zoo, name)()
        inputs = torch.randn(*shape)
        targets = torch.randint(0, classes, (shape[0],))
        predicted = advise(model, inputs, targets=targets, devices=["cpu"], gpu=old,
                           quick_calibration=args.quick).predicted  # fmt: skip
        entry = {"model": name, "input_shape": list(shape), "predicted_step_s": predicted.step_s,
                 "measured_step_s": None, "measured_step_iqr_s": None}  # fmt: skip
        if gpu is None:
            entry["skipped"] = "no CUDA device on this machine: nothing measured"
        else:
            measured = advise(model, inputs, targets=targets, devices=[gpu],
                              quick_calibration=args.quick)  # fmt: skip
            report = next(r for d, r in measured.devices.items() if d.startswith("cuda"))
            entry |= {"measured_step_s": report.step_s, "measured_step_iqr_s": report.step_iqr_s,
                      "ratio": predicted.step_s / report.step_s}  # fmt: skip
        models.append(entry)
        shown = ("not measured" if entry["measured_step_s"] is None
                 else f"{entry['measured_step_s'] * 1e6:,.0f} µs measured, "
                 f"ratio {entry['ratio']:.2f}")  # fmt: skip
        print(f"{name:<18} {predicted.step_s * 1e6:>10,.0f} µs predicted, {shown}", flush=True)
    new["measurements"]["advice"] = {"predicted_from": provenance(old), "models": models}
    save_results(new, args.record)
    print(f"wrote measurements.advice into {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
