#!/usr/bin/env bash
# Records this site's GPU figures on a GPU machine, in one run:
#   the hardware report, then `python -m devicelab bench` (the course's loop on GPU and CPU,
#   the loss.item() frequency sweep, transfer/sync/launch costs, the utilisation sweeps to the
#   crossover, the remedies with CUDA graphs, and the epoch breakdown).
# Usage: bash results/record.sh OUTDIR   (from the repository root, devicelab importable)
set -euo pipefail
out=${1:?usage: bash results/record.sh OUTDIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current --format=csv | tee "$out/nvidia-smi.csv" || true
python3 -m devicelab report | tee "$out/report.txt"
python3 -m devicelab report --json > "$out/report.json"
python3 -m devicelab bench --device cuda --out "$out/gpu.json" 2>&1 | tee "$out/bench.log"
