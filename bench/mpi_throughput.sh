#!/usr/bin/env bash
# Data-parallel training on one machine: `dro train` as 1 process × N threads against N MPI ranks ×
# 1 thread each (mpirun), same model, data, global batch and options; prints the median tokens/s
# of the timed steps (the first step, with its JIT warm-up, is left out) and the ratio.
#
#   bench/mpi_throughput.sh                       smollm2-135m, micro-batch 4, prompt 128, response 64, 2 ranks, 6 steps
#   PRESET=llama-tiny STEPS=20 bench/mpi_throughput.sh
#   PRESET=qwen2.5-0.5b ALGO=kto bench/mpi_throughput.sh
#
# Variables: PRESET, B (micro-batch per process), P, R (prompt / response tokens), RANKS, STEPS,
# ALGO (dro-v, kto, …), VALUE (dro-v's value: per-example, single, shared). The global batch is
# B × RANKS in both runs (one process runs RANKS micro-batches per step). Data are random token
# ids (every row exactly P + R tokens), reference log-probs are precomputed (not timed). Needs
# Open MPI's mpirun (apt-get install -y openmpi-bin). Nothing in the build or the tests needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${PRESET:-smollm2-135m} B=${B:-4} P=${P:-128} R=${R:-64} RANKS=${RANKS:-2} STEPS=${STEPS:-6}
ALGO=${ALGO:-dro-v} VALUE=${VALUE:-per-example}
command -v mpirun >/dev/null || { echo "needs Open MPI's mpirun (apt-get install -y openmpi-bin)" >&2; exit 1; }
dotnet build src/DroSharp.Cli -c Release -v q -nologo >/dev/null
DLL=src/DroSharp.Cli/bin/Release/net10.0/dro.dll
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

dotnet "$DLL" init --preset "$PRESET" --out "$tmp/model" --seed 1 >/dev/null
# One epoch of rows: every step sees new rows; ids avoid the first 8 (special tokens of most vocabularies).
python3 - "$tmp/model/config.json" "$tmp/data.jsonl" "$P" "$R" $((B * RANKS * STEPS)) <<'EOF'
import json, random, sys
vocab = json.load(open(sys.argv[1]))["vocab_size"]
p, r, n = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(1)
with open(sys.argv[2], "w") as f:
    for i in range(n):
        f.write(json.dumps({"prompt_ids": [rng.randrange(8, vocab) for _ in range(p)],
                            "completion_ids": [rng.randrange(8, vocab) for _ in range(r)],
                            "label": i % 2 == 0}) + "\n")
EOF

args=(train --algo "$ALGO" --model "$tmp/model" --data "$tmp/data.jsonl" --batch-size "$B" --global-batch-size $((B * RANKS))
      --max-steps "$STEPS" --warmup-steps 0 --log-every 1 --save-every 0 --precompute-ref true
      --max-prompt-length "$P" --max-completion-length "$R")
[ "$ALGO" = dro-v ] && args+=(--value "$VALUE")

median() {  # median of a metric over the logged steps ≥ 2: median FILE NAME
  python3 - "$1" "$2" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
xs = [r[sys.argv[2]] for r in rows if sys.argv[2] in r and r["step"] >= 2]
print(f"{statistics.median(xs):.3f}" if xs else "nan")
EOF
}

echo "$PRESET B$B P$P R$R, $ALGO, global batch $((B * RANKS)), $STEPS steps; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
DROSHARP_THREADS=$RANKS dotnet "$DLL" "${args[@]}" --out "$tmp/one" >"$tmp/one.log" 2>&1 || { cat "$tmp/one.log"; exit 1; }
one=$(median "$tmp/one/metrics.jsonl" tokens_per_s)
echo "1 process × $RANKS threads:  $one tokens/s"
mpirun --allow-run-as-root --bind-to core -np "$RANKS" -x DROSHARP_THREADS=1 dotnet "$DLL" "${args[@]}" --out "$tmp/ranks" >"$tmp/ranks.log" 2>&1 \
  || { cat "$tmp/ranks.log"; exit 1; }
ranks=$(median "$tmp/ranks/metrics.jsonl" tokens_per_s)
reduce=$(median "$tmp/ranks/metrics.jsonl" allreduce_s)
step=$(python3 -c "print(f'{$B * $RANKS * ($P + $R) / $ranks:.2f}')")
echo "$RANKS ranks × 1 thread:      $ranks tokens/s  ($(python3 -c "print(f'{$ranks / $one:.2f}')")× the one process); step $step s, of which all-reduce $reduce s"
