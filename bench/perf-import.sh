#!/usr/bin/env bash
# Side-by-side: XenProf's perf.data import/report against perf report, on one ~1M-sample callchain perf.data.
#   bench/perf-import.sh [RUNS]          (as root; needs perf and the .NET SDK)
# Regenerates bench/out/big.data with perf when missing (system-wide, -g, 25 kHz, both CPUs busy with the built-in
# workload: about 1M samples), publishes xenoprof ReadyToRun into bench/out/xenoprof (as it would be installed), then
# times, alternating, RUNS times: perf report --stdio -g none --no-children --sort dso,sym; cold xenoprof opreport -l
# FILE (import + symbol cache + report, the cache FILE.xenoprof removed first); warm xenoprof opreport -l FILE (cached
# session); xenoprof import alone. Prints the median wall time and the peak RSS (max over runs) of each, and each
# figure against its goal.
set -euo pipefail
# A private build-id cache: perf 6.1 here asserts (util/build-id.c) on a ~/.debug other perf runs write meanwhile.
export PERF_BUILDID_DIR=$(mktemp -d)
cd "$(dirname "$0")/.."
runs=${1:-5}
out=bench/out; mkdir -p "$out"
data=$out/big.data
xen=$(bash bench/publish.sh)
hot=src/XenOprof/bin/Release/net10.0/linux-x64/hotloop
if [ ! -f "$data" ]; then
  # Both CPUs kept busy by the built-in workload in two loops, the whole machine sampled for 20 s at 25 kHz per CPU:
  # about 1M samples with callchains whatever the load (-B: perf 6.1 here crashes collecting build-ids at the end).
  ( while :; do "$hot" >/dev/null; done ) & b1=$!
  ( while :; do "$hot" >/dev/null; done ) & b2=$!
  perf record -B -a -g -F 25000 -o "$data" -- sleep 20 >/dev/null 2>&1 || true
  kill "$b1" "$b2"; wait "$b1" "$b2" 2>/dev/null || true
fi
echo "file: $data ($(du -m "$data" | cut -f1) MB, $(perf report -i "$data" --stats 2>/dev/null | awk '/SAMPLE events/{print $3; exit}') samples)"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t.$$" "$@" >/dev/null 2>&1 || true
  read -r wall rss < "$out/t.$$"
  echo "$name $wall $rss" >> "$out/times.txt"
}
: > "$out/times.txt"
for ((i = 0; i < runs; i++)); do
  measure perf-report perf report -i "$data" --stdio -g none --no-children --sort dso,sym
  rm -rf "$data.xenoprof"
  measure xenoprof-cold "$xen" opreport -l "$data"
  measure xenoprof-warm "$xen" opreport -l "$data"
  rm -rf "$out/sess"
  measure xenoprof-import "$xen" import "$data" --session-dir "$out/sess"
done
printf "%-16s %10s %12s\n" tool median_s peak_rss_MB
for name in perf-report xenoprof-cold xenoprof-warm xenoprof-import; do
  med=$(awk -v n=$name '$1==n{print $2}' "$out/times.txt" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  rss=$(awk -v n=$name '$1==n{if($3>m)m=$3} END{printf "%.0f", m/1024}' "$out/times.txt")
  printf "%-16s %10s %12s\n" "$name" "$med" "$rss"
  echo "$name $med $rss" >> "$out/medians.$$"
done
awk '{t[$1]=$2; m[$1]=$3} END {
  printf "goals: cold <= perf report: %.2f s vs %.2f s (%s)\n", t["xenoprof-cold"], t["perf-report"], (t["xenoprof-cold"] <= t["perf-report"] ? "met" : "missed")
  printf "       warm >= 3x faster than perf report: %.1fx (%s)\n", t["perf-report"] / t["xenoprof-warm"], (t["perf-report"] / t["xenoprof-warm"] >= 3 ? "met" : "missed")
  printf "       import < 1.5 s: %.2f s (%s)\n", t["xenoprof-import"], (t["xenoprof-import"] < 1.5 ? "met" : "missed")
  mx = m["xenoprof-cold"]; if (m["xenoprof-warm"] > mx) mx = m["xenoprof-warm"]; if (m["xenoprof-import"] > mx) mx = m["xenoprof-import"]
  printf "       peak memory <= perf report: %d MB vs %d MB (%s)\n", mx, m["perf-report"], (mx <= m["perf-report"] ? "met" : "missed")
}' "$out/medians.$$"
rm -f "$out/medians.$$" "$out/t.$$"
