#!/usr/bin/env bash
# What streaming into ClickHouse costs the opcontrol daemon: the daemon at 2 CPUs x 10 kHz of cpu-clock with
# callchains (CPU_CLOCK:100000, --callgraph 127) for SECONDS under realistic.sh's load (xz -9 and the .NET burner),
# alternately without and with --clickhouse to a clickhouse-server 18.16 it starts on this machine, RUNS times each.
#   bash bench/stream.sh [RUNS] [SECONDS]   (as root; needs perf_event, clickhouse-server, xz and the .NET SDK)
# Prints per run the daemon's CPU (utime+stime from /proc/PID/stat, start to stop), its samples and lost samples,
# and the pushes its log records. XENOPROF_BIN=PATH times that build instead of publishing the Native AOT one.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-2}; seconds=${2:-30}
out=bench/out; mkdir -p "$out"
command -v xz >/dev/null || { echo "xz is needed: apt-get install xz-utils" >&2; exit 1; }
xen=${XENOPROF_BIN:-$(bash bench/publish.sh)}
source bench/busy.sh
source bench/clickhouse.sh
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: clickhouse-server $(curl -s "$url?query=SELECT%20version()") at $url"
tck=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }  # utime+stime, s
for ((i = 0; i < runs; i++)); do
  for mode in plain stream; do
    sess=$(mktemp -d); load $((seconds + 30))
    extra=(); [ $mode = stream ] && extra=(--clickhouse "$url" --database stream$i --host-name bench)
    "$xen" opcontrol --session-dir "$sess" --start-daemon --event CPU_CLOCK:100000 --callgraph 127 "${extra[@]}" >/dev/null
    dpid=$(cat "$sess/daemon.pid"); c0=$(cpu_of "$dpid")
    "$xen" opcontrol --session-dir "$sess" --start >/dev/null; sleep "$seconds"
    "$xen" opcontrol --session-dir "$sess" --stop >/dev/null
    c1=$(cpu_of "$dpid")
    "$xen" opcontrol --session-dir "$sess" --shutdown >/dev/null
    header=$("$xen" opreport --session-dir "$sess" 2>/dev/null | grep -m1 '^Samples:')
    pushes=$(grep -c "fleet push: sent" "$sess/daemon.log" || true)
    printf "%-6s daemon CPU %6.2f s in %s s; %s; pushes %s\n" "$mode" "$(awk -v a="$c1" -v b="$c0" 'BEGIN{print a - b}')" "$seconds" "$header" "$pushes"
    [ $mode = stream ] && echo "       in ClickHouse: $(curl -s "$url?query=SELECT%20count()%20FROM%20stream$i.samples") samples"
    unload; rm -rf "$sess"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
