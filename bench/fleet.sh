#!/usr/bin/env bash
# Times the fleet path on a large session: xenoprof push of ~1M samples into a real clickhouse-server, a second push
# (nothing to add), opreport -l --clickhouse and opannotate --clickhouse merging two hosts, against the local opreport -l
# and opannotate of one session.
#   bench/fleet.sh [FILE] [RUNS]   (as root; needs perf, clickhouse-server and the .NET SDK)
# FILE (default bench/out/big.data, recorded as bench/perf-import.sh records it when missing; e.g. bench/out/real.data,
# the realistic trace; FLEET_DATA=FILE works too) is imported twice (two sessions, pushed as hosts big-a and big-b);
# clickhouse-server runs as the clickhouse user on free ports with its data under a temporary directory, and is stopped
# at the end. Prints each step's median wall time and peak RSS of xenoprof (/usr/bin/time), the first push's rate in
# samples per second, and the load average before and after. XENOPROF_BIN=PATH times that build instead of publishing
# the Native AOT one.
set -euo pipefail
export PERF_BUILDID_DIR=$(mktemp -d)
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
data=${FLEET_DATA:-$out/big.data}
if [ $# -gt 0 ] && ! [[ $1 =~ ^[0-9]+$ ]]; then data=$1; shift; fi
runs=${1:-3}
[ "$data" = "$out/big.data" ] || [ -f "$data" ] || { echo "fleet.sh: $data: no such file" >&2; exit 1; }
xen=${XENOPROF_BIN:-$(bash bench/publish.sh)}
hot=src/XenOprof/bin/Release/net10.0/linux-x64/hotloop
if [ "$data" = "$out/big.data" ] && [ ! -f "$data" ]; then
  ( while :; do "$hot" >/dev/null; done ) & b1=$!
  ( while :; do "$hot" >/dev/null; done ) & b2=$!
  perf record -B -a -g -F 25000 -o "$data" -- sleep 20 >/dev/null 2>&1 || true
  kill "$b1" "$b2"; wait "$b1" "$b2" 2>/dev/null || true
fi

source bench/clickhouse.sh
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: clickhouse-server $(curl -s "$url?query=SELECT%20version()") at $url"

rm -rf "$out/fleet-a" "$out/fleet-b"
"$xen" import "$data" --session-dir "$out/fleet-a" 2>/dev/null
"$xen" import "$data" --session-dir "$out/fleet-b" 2>/dev/null
samples=$("$xen" opreport --session-dir "$out/fleet-a" 2>/dev/null | awk '/^Samples:/{print $2}' | tr -d ,)
echo "sessions: 2 imports of $data ($(du -mL "$data" | cut -f1) MB), $samples samples each"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t.$$" "$@" >/dev/null 2>"$out/err.$$" || { cat "$out/err.$$"; exit 1; }
  read -r wall rss < "$out/t.$$"
  echo "$name $wall $rss" >> "$out/fleet-times.txt"
}
: > "$out/fleet-times.txt"
for ((i = 0; i < runs; i++)); do
  db=bench$i
  measure push-first "$xen" push --clickhouse "$url" --database $db --host-name big-a "$out/fleet-a"
  measure push-again "$xen" push --clickhouse "$url" --database $db --host-name big-a "$out/fleet-a"
  "$xen" push --clickhouse "$url" --database $db --host-name big-b "$out/fleet-b" 2>/dev/null
  measure report-local "$xen" opreport -l --session-dir "$out/fleet-a"
  measure report-1host "$xen" opreport -l --clickhouse "$url" --database $db host:big-a
  measure report-2hosts "$xen" opreport -l --clickhouse "$url" --database $db
  measure report-2h-cpu "$xen" opreport -l --clickhouse "$url" --database $db cpu:$(seq -s, 0 255)   # every CPU, summed from the samples
  measure annotate-local "$xen" opannotate --assembly --session-dir "$out/fleet-a"
  measure annotate-2hosts "$xen" opannotate --assembly --clickhouse "$url" --database $db
done
"$xen" opreport -l --clickhouse "$url" --database bench0 2>/dev/null | sed -n '4p;5,9p'
printf "%-14s %10s %14s\n" step median_s peak_rss_MB
for name in push-first push-again report-local report-1host report-2hosts report-2h-cpu annotate-local annotate-2hosts; do
  med=$(awk -v n=$name '$1==n{print $2}' "$out/fleet-times.txt" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  rss=$(awk -v n=$name '$1==n{if($3>m)m=$3} END{printf "%.0f", m/1024}' "$out/fleet-times.txt")
  printf "%-14s %10s %14s\n" "$name" "$med" "$rss"
done
awk -v n="$samples" '$1=="push-first"{print $2}' "$out/fleet-times.txt" | sort -n \
  | awk -v n="$samples" '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "push rate: %.0f samples/s (first push, median)\n", n/m}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "clickhouse data dir: $(du -sm "$ch/data" | cut -f1) MB for $runs databases"
rm -f "$out/t.$$" "$out/err.$$"
