#!/usr/bin/env bash
# Runs every gallery example directly with python, as a reader who downloaded them would, in
# two parallel lanes (the GPU branches of each example run live on a GPU machine).
# Usage: bash results/run_examples.sh LOGDIR   (from the repository root, devicelab importable)
# Prints one "rc=" line per example; the logs hold each example's full output.
set -uo pipefail
logs=${1:?usage: bash results/run_examples.sh LOGDIR}
mkdir -p "$logs"
export MPLBACKEND=agg PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
run() {
  for example in "$@"; do
    name=$(basename "$example" .py)
    start=$(date +%s)
    python3 "$example" > "$logs/$name.log" 2>&1
    echo "$name rc=$? $(( $(date +%s) - start ))s"
  done
}
run examples/overheads/plot_remedies.py examples/overheads/plot_transfer_cost.py \
    examples/overheads/plot_launch_overhead.py examples/hardware/plot_inspect_gpu.py \
    examples/python/plot_call_method.py &
run examples/training/plot_record_frequency.py examples/training/plot_cpu_vs_gpu.py \
    examples/training/plot_train_on_device.py examples/overheads/plot_utilization.py \
    examples/hardware/plot_inspect_cpu.py &
wait
