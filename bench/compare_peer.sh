#!/usr/bin/env bash
# DroSharp's `dro bench step` against the PyTorch peer (t5_peer.py bench), side by side in one run on
# this machine, for the two shapes of the performance target. Prints a table with the ratio of
# tokens/s (ours / peer) and of peak memory.
#
#   bench/compare_peer.sh [path/to/t5_peer.py]       (default: ../shared/peer/t5_peer.py)
#   ROUNDS=3 STEPS=5 bench/compare_peer.sh            (rounds alternate ours/peer; medians are reported)
#
# Needs Debian's PyTorch with OpenBLAS for the peer: apt-get install -y python3-torch libopenblas0-pthread
# (without OpenBLAS, Debian's torch falls back to the reference BLAS and is ~20x slower: not a fair peer).
# The peer runs with /usr/bin/python3 in its fastest setting, --threads 1. Nothing in the build or the tests
# needs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${1:-../shared/peer/t5_peer.py}
ROUNDS=${ROUNDS:-1}
STEPS=${STEPS:-5}
[ -f "$PEER" ] || { echo "peer script $PEER not found" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "the peer needs python3-torch (apt-get install -y python3-torch)" >&2; exit 1; }
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "libblas.so.3 is not OpenBLAS: install libopenblas0-pthread so the peer runs at its real speed" >&2; exit 1
fi
dotnet build src/DroSharp.Cli -c Release -v q -nologo >/dev/null
DRO="dotnet src/DroSharp.Cli/bin/Release/net10.0/dro.dll"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-9s %-13s %12s %12s %7s %10s %10s %7s\n' config "B/P/R" "ours tok/s" "peer tok/s" ratio "ours MiB" "peer MiB" "mem"
for shape in "t5-mini 16 64 64" "t5-small 8 128 64"; do
  set -- $shape
  cfg=$1 b=$2 p=$3 r=$4
  ours=() peer=() ours_mem=() peer_mem=()
  for round in $(seq "$ROUNDS"); do
    $DRO bench step --preset "$cfg" --batch "$b" --prompt-len "$p" --response-len "$r" --steps "$STEPS" --json > "$tmp/ours.json"
    /usr/bin/python3 "$PEER" bench --config "$cfg" --batch "$b" --prompt-len "$p" --response-len "$r" --steps "$STEPS" \
      --threads 1 --json "$tmp/peer.json" > /dev/null
    ours+=("$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens_per_s"])' "$tmp/ours.json")")
    ours_mem+=("$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_mb"])' "$tmp/ours.json")")
    peer+=("$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens_per_s"])' "$tmp/peer.json")")
    peer_mem+=("$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_mib"])' "$tmp/peer.json")")
  done
  /usr/bin/python3 - "$cfg" "$b/$p/$r" "${ours[*]}" "${peer[*]}" "${ours_mem[*]}" "${peer_mem[*]}" <<'PY'
import statistics, sys
cfg, shape = sys.argv[1], sys.argv[2]
o, p, om, pm = (statistics.median(float(x) for x in a.split()) for a in sys.argv[3:7])
print(f"{cfg:<9} {shape:<13} {o:12.1f} {p:12.1f} {o/p:6.2f}x {om:10.0f} {pm:10.0f} {om/pm:6.2f}x")
PY
done
echo "(tokens = B·(P+R) per step; median over $ROUNDS round(s) of the median of $STEPS timed steps; $(nproc) cores)"
