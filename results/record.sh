#!/usr/bin/env bash
# Records this site's GPU figures on a GPU machine, in one call (well inside 10 minutes):
#   1. the hardware report;
#   2. `python -m devicelab bench --device cuda`: the course's loop on GPU and CPU, the
#      loss.item() frequency sweep, transfer/sync/launch costs, the three utilisation sweeps
#      with counted FLOPs and bytes, the roofline's ceilings, the remedies with CUDA graphs, the
#      step breakdown with the GPU's busy time, and the noise meter;
#   3. the advisor's GPU predictions checked against the GPU (results/advise_check.py);
#   4. every example run directly with python, one at a time (results/run_examples.sh).
# Usage: bash results/record.sh [--dry-run] OUTDIR   (from the repository root, devicelab
#   importable). Then copy OUTDIR/gpu.json to results/<hardware>.json and OUTDIR's logs to
#   results/logs/.
# --dry-run: the same steps on any machine, under the CUDA stand-in (tests/cuda_standin.py:
#   torch reports one GPU whose tensors stay on the CPU), with `bench --quick`: it checks that
#   every step runs to the end and that the record validates, so a GPU session only records.
#   Its numbers are the CPU's; its device_name says "stand-in". Never copy it to results/.
# Settings (environment): PYTHON (default python3), DEVICE (default cuda), BENCH_ARGS (default
#   none; --quick in a dry run), ADVISE_ARGS (for advise_check.py; default none, --quick in a
#   dry run: the quick calibration sweeps; --models NAME... checks fewer models), EXAMPLES (the
#   examples to run; default all of them). The quickest dry run (tests/test_cuda_record_dry_run.py):
#   BENCH_ARGS="--quick --only sync" ADVISE_ARGS="--quick --models iris_mlp" EXAMPLES=ONE.py
set -euo pipefail
dry_run=0
if [[ ${1:-} == --dry-run ]]; then
  dry_run=1
  shift
fi
out=${1:?usage: bash results/record.sh [--dry-run] OUTDIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
if ((dry_run)); then
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  # sitecustomize installs the stand-in in every Python process started from here
  export DEVICELAB_CUDA_STANDIN=1 PYTHONPATH="$root/tests/standin_site:$root/tests${PYTHONPATH:+:$PYTHONPATH}"
  BENCH_ARGS=${BENCH_ARGS:---quick}
  ADVISE_ARGS=${ADVISE_ARGS:---quick}
  echo "record: DRY RUN under the CUDA stand-in: nothing here is a GPU measurement"
fi
start=$(date +%s)
if ((dry_run)); then
  echo "dry run: nvidia-smi not queried" > "$out/nvidia-smi.csv"
else
  nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current --format=csv | tee "$out/nvidia-smi.csv" || true
fi
"$python" -m devicelab report | tee "$out/report.txt"
"$python" -m devicelab report --json > "$out/report.json"
"$python" -m devicelab bench --device "${DEVICE:-cuda}" ${BENCH_ARGS:-} --out "$out/gpu.json" 2>&1 | tee "$out/bench.log"
"$python" -m devicelab validate "$out/gpu.json"
# shellcheck disable=SC2086  # ADVISE_ARGS is a list of options
"$python" results/advise_check.py "$out/gpu.json" ${ADVISE_ARGS:-} 2>&1 | tee "$out/advise.log"
echo "record: $(( $(date +%s) - start )) s before the examples"
# shellcheck disable=SC2086  # EXAMPLES is a list of paths
PYTHON="$python" bash results/run_examples.sh "$out/examples" ${EXAMPLES:-} || echo "some example failed or ran over its limit: see $out/examples/times.tsv"
echo "record: $(( $(date +%s) - start )) s in all"
