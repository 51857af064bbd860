#!/usr/bin/env bash
# Fuzz one target with AFL++ through SharpFuzz for a fixed time:  fuzz/run.sh TARGET SECONDS
# Targets: dotnet fuzz/out/bin/DroSharp.Fuzz.dll --list (or see fuzz/DroSharp.Fuzz/FuzzTargets.cs).
# Needs afl-fuzz (apt-get install -y afl++) and the SharpFuzz.CommandLine tool (dotnet tool install --global
# SharpFuzz.CommandLine --version 2.3.0); both are installed here on first use. Publishes and instruments the
# parsers' assemblies once into fuzz/out/bin (FUZZ_REBUILD=1 to redo), runs under nice, and appends
# "target seconds execs crashes hangs" to fuzz/out/summary.tsv. Findings stay in fuzz/out/findings/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: fuzz/run.sh TARGET SECONDS" >&2; exit 2; }
target=$1 seconds=$2
out=fuzz/out bin=fuzz/out/bin
export PATH="$PATH:$HOME/.dotnet/tools"

command -v afl-fuzz >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null; }
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null

if [ ! -f "$bin/DroSharp.Fuzz.dll" ] || [ "${FUZZ_REBUILD:-0}" = 1 ]; then
  rm -rf "$bin"
  dotnet publish fuzz/DroSharp.Fuzz -c Release -o "$bin" --nologo -v quiet
  # Instrument the assemblies whose parsers are fuzzed (not the engine, System.* or SharpFuzz itself).
  for dll in DroSharp.Text DroSharp.Models DroSharp.Alignment; do sharpfuzz "$bin/$dll.dll"; done
fi
grep -q "new(\"$target\"" fuzz/DroSharp.Fuzz/FuzzTargets.cs || { echo "unknown target $target" >&2; exit 2; }

findings="$out/findings/$target"
rm -rf "$findings"
mkdir -p "$out/findings"
# dotnet is not an AFL-instrumented binary (SharpFuzz instruments the IL): skip the binary check; no core dumps.
AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
AFL_FORKSRV_INIT_TMOUT=60000 AFL_SKIP_CRASHES=1 AFL_QUIET=1 \
  nice -n 10 afl-fuzz -V "$seconds" -i "fuzz/seeds/$target" -o "$findings" -t 5000 -m none -- dotnet "$bin/DroSharp.Fuzz.dll" "$target" >"$out/$target.log" 2>&1 || {
    echo "afl-fuzz failed; see $out/$target.log" >&2; tail -20 "$out/$target.log" >&2; exit 1; }

stats="$findings/default/fuzzer_stats"
execs=$(awk -F' *: *' '$1=="execs_done"{print $2}' "$stats")
crashes=$(awk -F' *: *' '$1=="saved_crashes"||$1=="unique_crashes"{print $2}' "$stats" | head -1)
hangs=$(awk -F' *: *' '$1=="saved_hangs"||$1=="unique_hangs"{print $2}' "$stats" | head -1)
printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "$execs" "$crashes" "$hangs" | tee -a "$out/summary.tsv"
if [ "${crashes:-0}" != 0 ]; then
  echo "crashes: replay (uninstrumented) with  dotnet run --project fuzz/DroSharp.Fuzz -c Release -- --replay $target $findings/default/crashes/id*" >&2
fi
