#!/usr/bin/env bash
# Runs gallery examples directly with python, as a reader who downloaded them would, ONE AT A
# TIME: examples run side by side slow each other down and contaminate each other's timings.
# On a GPU machine their GPU branches run live.
#
# Usage (from the repository root, devicelab importable):
#   bash results/run_examples.sh LOGDIR [EXAMPLE.py ...]    # default: every examples/*/plot_*.py
# Settings (environment): PYTHON (default python3), LIMIT_S (the time an example should stay
#   within, default 90), TIMEOUT_S (an example still running then is stopped, exit 124;
#   default 600).
#
# Writes LOGDIR/<example>.log (everything the example printed) and LOGDIR/times.tsv, one row
# per example: example, exit status, seconds (wall clock, interpreter start-up included), and
# whether it stayed within LIMIT_S. Exits 1 if any example failed or ran past LIMIT_S.
# No thread settings are exported: a reader's run uses torch's defaults.
set -uo pipefail
logs=${1:?usage: bash results/run_examples.sh LOGDIR [EXAMPLE.py ...]}
shift
python=${PYTHON:-python3}
limit_s=${LIMIT_S:-90}
timeout_s=${TIMEOUT_S:-600}
if (($# == 0)); then
  set -- examples/*/plot_*.py
fi
mkdir -p "$logs"
export MPLBACKEND=agg PYTHONUNBUFFERED=1 # no display; logs written as the example prints
table="$logs/times.tsv"
printf 'example\trc\tseconds\twithin_%s_s\n' "$limit_s" > "$table"
failed=0
for example in "$@"; do
  name=$(basename "$example" .py)
  start=$(date +%s.%N)
  timeout "$timeout_s" "$python" "$example" > "$logs/$name.log" 2>&1
  rc=$?
  seconds=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
  within=$(awk -v s="$seconds" -v l="$limit_s" 'BEGIN {print (s <= l) ? "yes" : "no"}')
  printf '%s\t%s\t%s\t%s\n' "$example" "$rc" "$seconds" "$within" >> "$table"
  echo "$name rc=$rc ${seconds}s$([[ $within == no ]] && echo " (over ${limit_s} s)")"
  if [[ $rc != 0 || $within == no ]]; then
    failed=1
  fi
done
echo "run_examples: $# examples, one at a time; times in $table"
exit $failed
