#!/usr/bin/env bash
# Fuzz every target, one after the other, for SECONDS each (default 180):  fuzz/run-all.sh [SECONDS]
# Rebuilds and re-instruments once, then prints the summary (target, seconds, executions, crashes, hangs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-180}
FUZZ_REBUILD=1 fuzz/run.sh config 1 >/dev/null   # build and instrument once
: > fuzz/out/summary.tsv
for target in $(sed -n 's/^ *new("\([a-z-]*\)".*/\1/p' fuzz/DroSharp.Fuzz/FuzzTargets.cs); do
  fuzz/run.sh "$target" "$seconds" || echo "$target: afl-fuzz failed" >&2
done
echo; echo "target	seconds	execs	crashes	hangs"; cat fuzz/out/summary.tsv
awk -F'\t' '{n+=$3} END {print "total executions: " n}' fuzz/out/summary.tsv
