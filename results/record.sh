#!/usr/bin/env bash
# Records this site's GPU figures on a GPU machine, in one call (well inside 10 minutes):
#   1. the hardware report;
#   2. `python -m devicelab bench --device cuda`: the course's loop on GPU and CPU, the
#      loss.item() frequency sweep, transfer/sync/launch costs, the three utilisation sweeps
#      with counted FLOPs and bytes, the roofline's ceilings, the remedies with CUDA graphs, the
#      step breakdown with the GPU's busy time, and the noise meter;
#   3. the advisor's GPU predictions checked against the GPU (results/advise_check.py);
#   4. every example run directly with python, one at a time (results/run_examples.sh).
# Usage: bash results/record.sh OUTDIR   (from the repository root, devicelab importable)
# Then copy OUTDIR/gpu.json to results/<hardware>.json and OUTDIR's logs to results/logs/.
set -euo pipefail
out=${1:?usage: bash results/record.sh OUTDIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current --format=csv | tee "$out/nvidia-smi.csv" || true
"$python" -m devicelab report | tee "$out/report.txt"
"$python" -m devicelab report --json > "$out/report.json"
"$python" -m devicelab bench --device "${DEVICE:-cuda}" ${BENCH_ARGS:-} --out "$out/gpu.json" 2>&1 | tee "$out/bench.log"
"$python" results/advise_check.py "$out/gpu.json" 2>&1 | tee "$out/advise.log"
echo "record: $(( $(date +%s) - start )) s before the examples"
PYTHON="$python" bash results/run_examples.sh "$out/examples" || echo "some example failed or ran over its limit: see $out/examples/times.tsv"
echo "record: $(( $(date +%s) - start )) s in all"
