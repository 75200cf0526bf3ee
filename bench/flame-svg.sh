#!/usr/bin/env bash
# Flame graph speed, side by side on the same perf.data in one run (issue 6's speed goal: xenoprof at least 20x
# faster than the perf script pipeline, cold, import included, with no more peak memory than perf script):
#   A: perf script | stackcollapse-perf.pl | flamegraph.pl > A.svg
#   B: xenoprof import FILE (into a fresh session) + xenoprof flame --format svg > B.svg
# Usage: bash bench/flame-svg.sh PERF_DATA [OUT_DIR]
# Needs perf, /usr/bin/time, and FlameGraph's stackcollapse-perf.pl and flamegraph.pl on PATH or in $FLAMEGRAPH_DIR.
# XENOPROF overrides the xenoprof command (default: the Release build in this tree, built if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath "${1:?usage: flame-svg.sh PERF_DATA [OUT_DIR]}")
out=$(realpath -m "${2:-$here/out/bench-flame}")
rm -rf "$out" && mkdir -p "$out"
export PATH="${FLAMEGRAPH_DIR:+$FLAMEGRAPH_DIR:}$PATH"

if [ -z "${XENOPROF:-}" ]; then
  dotnet build -c Release --nologo -v quiet "$here/src/XenOprof/XenOprof.csproj" >/dev/null
  XENOPROF="$here/src/XenOprof/bin/Release/net10.0/linux-x64/xenoprof"
fi

measure() { # name, command...: prints "name seconds peak_kib" and keeps the command's stderr in OUT/name.log
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" 2>"$out/$name.log" || { echo "$name failed; see $out/$name.log" >&2; return 1; }
  read -r secs kib <"$out/$name.time"
  printf '%-22s %8.2f s %10d KiB\n' "$name" "$secs" "$kib"
}

echo "perf.data: $data ($(du -h "$data" | cut -f1))"
if command -v stackcollapse-perf.pl >/dev/null && command -v flamegraph.pl >/dev/null; then
  # Peak memory of the pipeline's first stage (perf script) is measured on its own run, as the goal compares against it.
  measure perf-script sh -c "perf script -i '$data' > '$out/perf.script'"
  measure perf-pipeline sh -c "perf script -i '$data' | stackcollapse-perf.pl | flamegraph.pl > '$out/A.svg'"
  rm -f "$out/perf.script"
else
  echo "perf pipeline skipped: stackcollapse-perf.pl/flamegraph.pl not found (set FLAMEGRAPH_DIR)"
fi
measure xenoprof-import "$XENOPROF" import "$data" --session-dir "$out/session"
measure xenoprof-flame "$XENOPROF" flame --session-dir "$out/session" --format svg --output "$out/B.svg"

awk -v out="$out" 'BEGIN {
  while ((getline l < (out "/xenoprof-import.time")) > 0) { split(l, a, " "); xs += a[1]; xm = a[2] }
  while ((getline l < (out "/xenoprof-flame.time")) > 0) { split(l, a, " "); xs += a[1]; if (a[2] > xm) xm = a[2] }
  printf "xenoprof total          %8.2f s %10d KiB (peak of the two steps)\n", xs, xm
  if ((getline l < (out "/perf-pipeline.time")) > 0) { split(l, a, " "); printf "speed-up                %8.1fx (goal >= 20x)\n", a[1] / xs }
  if ((getline l < (out "/perf-script.time")) > 0) { split(l, a, " "); printf "peak memory vs perf script: %d vs %d KiB (goal: not more)\n", xm, a[2] }
}'
