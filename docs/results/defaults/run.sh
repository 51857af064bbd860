#!/usr/bin/env bash
# The experiments behind docs/results.md, "Defaults that do not hurt" (run on 2026-12-02 on a 2-core AMD EPYC).
# They use the arena pipeline of the `truth` branch (commit 146bbcc: one held-out set, curves every 24 steps on
# 256 prompts). Reproduce with that build:  git worktree add /tmp/t 146bbcc && cd /tmp/t && bash docs/results/defaults/run.sh
# (about 3 h on 2 cores), then:  cd $OUT && python3 docs/results/defaults/tables.py defaults C-* ...
set -euo pipefail
dotnet build src/DroSharp.Cli -c Release -v q -nologo >/dev/null
DRO="dotnet $(pwd)/src/DroSharp.Cli/bin/Release/net10.0/dro.dll"
OUT=${OUT:-/tmp/defaults-study}; mkdir -p "$OUT"; cd "$OUT"
LARGE="--d-model 128 --d-ff 256 --heads 4 --layers 3"
# A: the grid (LR × τ × algorithm) at batch 8 × 1 epoch and batch 32 × 3 epochs, 3 seeds.
ARMS="dro-v:lr=1e-5,dro-v:lr=3e-5,dro-v,dro-v:lr=1e-5:tau=0.3,dro-v:lr=3e-5:tau=0.3,dro-v:lr=1e-4:tau=0.3,dro-p:lr=1e-5,dro-p:lr=3e-5,dro-p,kto-trl:lr=1e-5,kto-trl:lr=3e-5,kto-trl"
for T in arithmetic sentiment; do
  $DRO experiment --task $T --seeds 3 --trainer-defaults --train-options '{"batch_size": 8, "epochs": 1, "lr": 1e-4}' --algos "$ARMS" --curve-every 24 --curve-prompts 256 --out A-$T-b8e1
  $DRO experiment --task $T --seeds 3 --trainer-defaults --train-options '{"batch_size": 32, "epochs": 3, "lr": 1e-4}' --algos "$ARMS" --curve-every 18 --curve-prompts 256 --out A-$T-b32e3
done
# C: dro train's defaults (dro-v:tau=0.3) beside their neighbours and bad settings, two model sizes, 3 seeds.
ARMS="dro-v:tau=0.3,dro-v:tau=0.3:lr=1e-5,dro-v:tau=0.3:lr=1e-4,dro-v,dro-v:lr=1e-4,dro-p:tau=0.3,kto-trl,kto-trl:lr=1e-4,dro-v:tau=0.3:lr=1e-3"
for T in arithmetic sentiment; do
  $DRO experiment --task $T --seeds 3 --trainer-defaults --algos "$ARMS" --curve-every 24 --curve-prompts 256 --out C-$T-small
  $DRO experiment --task $T --seeds 3 --trainer-defaults --algos "$ARMS" --curve-every 24 --curve-prompts 256 $LARGE --out C-$T-large
done
# D: the worst setting again with the fallback selection (no healthy evaluation); LN: length normalisation at a high LR.
for T in arithmetic sentiment; do
  $DRO experiment --task $T --seeds 3 --trainer-defaults --algos "dro-v:tau=0.3:lr=1e-3" --curve-every 24 --curve-prompts 256 --out D-$T-small
  $DRO experiment --task $T --seeds 3 --trainer-defaults --algos "dro-v:tau=0.3:lr=1e-3" --curve-every 24 --curve-prompts 256 $LARGE --out D-$T-large
  $DRO experiment --task $T --seeds 1 --trainer-defaults --train-options '{"length_normalize": true}' --algos "dro-v:tau=0.3,dro-v:tau=0.3:lr=1e-4" --curve-every 24 --curve-prompts 256 --out LN-$T-small
  $DRO experiment --task $T --seeds 1 --trainer-defaults --train-options '{"length_normalize": true}' --algos "dro-v:tau=0.3,dro-v:tau=0.3:lr=1e-4" --curve-every 24 --curve-prompts 256 $LARGE --out LN-$T-large
done
