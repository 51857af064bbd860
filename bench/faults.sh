#!/usr/bin/env bash
# Fault injection for dro train:  bench/faults.sh [KILLS] [STEPS]   (defaults 50 kills, 30 steps)
#
# Trains a small run (t5-tiny, DRO-V, a checkpoint every step, an eval split) once without interruption, then again
# with `kill -9` at random moments — including inside checkpoint and final-model writes — each time continuing with
# `dro train --resume` (or the original command when no checkpoint exists yet), until KILLS kills have been made.
# Every faulted run that completes is compared with the uninterrupted one: final weights (policy and value) must be
# bit-identical and metrics.jsonl identical (except tokens_per_s, a wall-clock rate). Prints one line per kill and a
# summary; exits 1 on any difference or unexpected failure. Uses `nice`; about 5–10 minutes on two busy cores.
set -uo pipefail
cd "$(dirname "$0")/.."
kills_wanted=${1:-50} steps=${2:-30}
work=$(mktemp -d /tmp/dro-faults-XXXXXX)
dotnet build src/DroSharp.Cli -c Release --nologo -v quiet >/dev/null || { echo "build failed" >&2; exit 1; }
dll=src/DroSharp.Cli/bin/Release/net10.0/dro.dll
dro() { nice -n 10 dotnet "$dll" "$@"; }

# Data: prompts asking for a colour, several logged responses, thumbs up for the right one.
python3 - "$work/data.jsonl" <<'PY'
import json, random, sys
random.seed(1)
colours = ["red", "green", "blue", "yellow", "black", "white"]
with open(sys.argv[1], "w") as f:
    for i in range(48):
        right = colours[i % 3]
        for c in random.sample(colours, 4) + [right]:
            f.write(json.dumps({"prompt": f"what colour is thing {i % 12} please", "completion": f"it is {c}", "label": c == right}) + "\n")
PY
dro tokenizer train --type wordlevel --vocab-size 100 --data "$work/data.jsonl" --out "$work/tok.json" >/dev/null
dro init --preset t5-tiny --tokenizer "$work/tok.json" --out "$work/m0" --seed 3 >/dev/null
args=(--model "$work/m0" --data "$work/data.jsonl" --max-steps "$steps" --save-every 1 --save-total-limit 2 --batch-size 4
      --grad-accum 2 --log-every 1 --eval-fraction 0.2 --eval-every 5 --warmup-steps 3 --lr 1e-3 --schedule cosine)

start=$(date +%s%N)
dro train "${args[@]}" --out "$work/reference" >/dev/null 2>"$work/reference.log" || { echo "the uninterrupted run failed"; cat "$work/reference.log"; exit 1; }
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "uninterrupted run: $steps steps in ${full_ms} ms (including start-up)"
strip() { sed -E 's/"tokens_per_s":[^,}]*,?//' "$1"; }

kills=0 midwrite=0 restarts=0 completed=0 identical=0 failures=0 run=0
while [ "$kills" -lt "$kills_wanted" ]; do
  run=$((run + 1)); out="$work/faulted-$run"
  while :; do
    if [ -f "$out/run.json" ] && ls -d "$out"/checkpoints/step-[0-9]* 2>/dev/null | grep -qv '\.tmp-'; then cmd=(train --resume "$out"); else cmd=(train "${args[@]}" --out "$out"); fi
    before=$(find "$out" \( -name '*.tmp-*' -o -name '.*.tmp' -o -name '*.tmp[0-9]*' \) 2>/dev/null | sort)
    nice -n 10 dotnet "$dll" "${cmd[@]}" >/dev/null 2>>"$out.log" &  # nice execs dotnet: $! is dro's own pid
    pid=$!
    # A random moment between 0.3 s and 1.1 × the uninterrupted run's time; kill -9 then if dro still runs.
    delay_ms=$(( 300 + (RANDOM * 32768 + RANDOM) % (full_ms * 11 / 10 - 300 + 1) ))
    end=$(( $(date +%s%N) + delay_ms * 1000000 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s%N)" -lt "$end" ]; do sleep 0.01; done
    if kill -0 "$pid" 2>/dev/null && [ "$kills" -lt "$kills_wanted" ]; then
      kill -9 "$pid"; wait "$pid" 2>/dev/null
      kills=$((kills + 1))
      # A temporary that this process created (not one left by an earlier kill and not yet cleaned): it died mid-write.
      tmp=$(comm -13 <(echo "$before") <(find "$out" \( -name '*.tmp-*' -o -name '.*.tmp' -o -name '*.tmp[0-9]*' \) 2>/dev/null | sort) | grep -v '^$' | head -1)
      where="between writes"; [ -n "$tmp" ] && { midwrite=$((midwrite + 1)); where="inside a write (${tmp#$out/})"; }
      step=$(ls -d "$out"/checkpoints/step-[0-9]* 2>/dev/null | grep -v '\.tmp-' | sed 's/.*step-//' | sort -n | tail -1)
      echo "kill $kills: run $run after ${delay_ms} ms, newest checkpoint ${step:-none}, $where"
      restarts=$((restarts + 1))
      continue
    fi
    wait "$pid"; status=$?
    if [ "$status" -ne 0 ]; then echo "run $run: dro exited $status after a restart:"; tail -3 "$out.log"; failures=$((failures + 1)); break; fi
    completed=$((completed + 1))
    same=yes
    for f in model.safetensors value/model.safetensors; do cmp -s "$work/reference/final/$f" "$out/final/$f" || same="no ($f differs)"; done
    diff <(strip "$work/reference/metrics.jsonl") <(strip "$out/metrics.jsonl") >/dev/null || same="no (metrics.jsonl differs)"
    leftovers=$(find "$out" \( -name '*.tmp-*' -o -name '.*.tmp' -o -name '*.tmp[0-9]*' \) | wc -l)
    [ "$leftovers" -ne 0 ] && same="no ($leftovers temporaries left)"
    echo "run $run completed: identical to the uninterrupted run: $same"
    if [ "$same" = yes ]; then identical=$((identical + 1)); else failures=$((failures + 1)); fi
    break
  done
done
echo
echo "kills: $kills ($midwrite inside a checkpoint, metrics or final-model write); restarts: $restarts; faulted runs completed: $completed, bit-identical: $identical; failures: $failures"
[ "$failures" -eq 0 ] && rm -rf "$work" || echo "kept $work for inspection"
[ "$failures" -eq 0 ]
