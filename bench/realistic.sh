#!/usr/bin/env bash
# Side by side on a realistic trace, in one run: perf's commands and xenoprof's, the Native AOT build users install
# (bench/publish.sh) and the JIT build (dotnet build), median wall time and peak RSS over RUNS runs, ratios, goals.
#   bash bench/realistic.sh [RUNS]      (as root; needs perf, the .NET SDK, xz, GNU time: apt-get install time)
# Environment: REC_SECONDS (40), REC_FREQ (20000), FLAME_RUNS (1: the FlameGraph pipeline takes about a minute),
# RERECORD=1 records the trace again, SKIP_DAEMON=1 skips the daemon CPU comparison, NO_PUBLISH=1 below.
#
# The trace (bench/out/real.data, recorded when missing): the whole machine, `perf record -a -g -F REC_FREQ` for
# REC_SECONDS while `xz -9` compresses generated text on one CPU and a .NET program (tests/Sampler.Tests' burner,
# DOTNET_PerfMapEnabled=1, so its JIT code is named from /tmp/perf-PID.map) burns the other: deep kernel, libc,
# liblzma and JIT stacks, some 1.5 M samples. It is never checked in.
#
# Timed, alternating, RUNS times (cold = the import cache FILE.xenoprof/ removed and the page cache dropped first;
# perf report has no cache, so it is always cold and is dropped for too):
#   perf-report      perf report --stdio -g none --no-children --sort dso,sym
#   aot-cold         xenoprof opreport -l FILE, Native AOT, cold (import + symbols + report)
#   aot-warm         the same again (cached import)
#   jit-cold/-warm   the same with the JIT build
#   perf-flame       perf script | stackcollapse | flamegraph.pl (FLAME_RUNS times; bench/flame-svg.sh says which
#                    stackcollapse it finds)
#   aot-flame        xenoprof flame FILE --format svg, cold
# Then the daemon's CPU: `xenoprof opcontrol` and `perf record -a -g`, both at a period of 100,000 ns of cpu-clock
# (10 kHz on each of the 2 CPUs) for 10 s with the same load, utime+stime of each recorder from /proc/PID/stat.
# The other jobs on the machine share the CPUs: ratios measured side by side in one run still compare; the load
# average is printed at the start and the end.
set -euo pipefail
export PERF_BUILDID_DIR=$(mktemp -d)   # perf 6.1 here asserts on a ~/.debug that other perf runs write meanwhile
cd "$(dirname "$0")/.."
runs=${1:-3}
rec_seconds=${REC_SECONDS:-40}; rec_freq=${REC_FREQ:-20000}; flame_runs=${FLAME_RUNS:-1}
out=bench/out; mkdir -p "$out"
data=$out/real.data
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }
command -v xz >/dev/null || { echo "xz is needed: apt-get install xz-utils" >&2; exit 1; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# NO_PUBLISH=1 times the builds already in place (bench/out/xenoprof, bin/Release) instead of building them again.
if [ -n "${NO_PUBLISH:-}" ] && [ -x bench/out/xenoprof/xenoprof ]; then aot=bench/out/xenoprof/xenoprof
else aot=$(bash bench/publish.sh); fi                # also builds the JIT build below
jit="dotnet src/XenOprof/bin/Release/net10.0/linux-x64/xenoprof.dll"   # the framework-dependent build (what `dotnet pack` ships)

source bench/busy.sh

if [ ! -f "$data" ] || [ -n "${RERECORD:-}" ]; then
  rm -rf "$data" "$data.xenoprof"
  load $((rec_seconds + 2)); sleep 1               # the runtime writes its perf map from the start
  # -B: perf 6.1 here crashes collecting build-ids at the end of a long record.
  perf record -B -a -g -F "$rec_freq" -o "$data" -- sleep "$rec_seconds" >/dev/null 2>&1 || true
  unload
fi
samples=$(perf report -i "$data" --stats 2>/dev/null | awk '/SAMPLE events/{print $3; exit}')
echo "file: $data ($(du -m "$data" | cut -f1) MB, $samples samples), $runs runs"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
times=$out/realistic.times; : > "$times"
measure() { # name, command...: appends "name wall_s peak_kib cpu_s" (cpu = user + system) to $times
  local name=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$out/t.$$" "$@" >/dev/null 2>"$out/$name.log" \
    || { echo "$name failed; see $out/$name.log" >&2; exit 1; }
  awk -v n="$name" '{printf "%s %s %s %.2f\n", n, $1, $2, $3 + $4}' "$out/t.$$" >> "$times"
}
flamegraph=$out/tools/flamegraph.pl
if [ ! -x "$flamegraph" ]; then  # bench/flame-svg.sh fetches it from Debian's ruby-stackprof
  mkdir -p "$out/tools/deb"
  (cd "$out/tools/deb" && apt-get download ruby-stackprof >/dev/null 2>&1) || { echo "apt-get download ruby-stackprof failed" >&2; exit 1; }
  dpkg-deb -x "$out"/tools/deb/ruby-stackprof_*.deb "$out/tools/deb/root"
  cp "$(find "$out/tools/deb/root" -path '*/vendor/FlameGraph/flamegraph.pl' | head -n 1)" "$flamegraph"
fi
if [ -n "${FLAMEGRAPH_DIR:-}" ]; then pipeline="perf script -i '$data' | '$FLAMEGRAPH_DIR/stackcollapse-perf.pl' | '$flamegraph'"
else pipeline="perf script report stackcollapse -i '$data' | '$flamegraph'"; fi

for ((i = 0; i < runs; i++)); do
  drop; measure perf-report perf report -i "$data" --stdio -g none --no-children --sort dso,sym
  rm -rf "$data.xenoprof"; drop; measure aot-cold "$aot" opreport -l "$data"
  measure aot-warm "$aot" opreport -l "$data"
  rm -rf "$data.xenoprof"; drop; measure jit-cold $jit opreport -l "$data"
  measure jit-warm $jit opreport -l "$data"
  rm -rf "$data.xenoprof"; drop; measure aot-flame "$aot" flame "$data" --format svg --output "$out/realistic.svg"
done
for ((i = 0; i < flame_runs; i++)); do
  drop; measure perf-flame sh -c "$pipeline > '$out/realistic-perf.svg'"
done

# The daemon against perf record -a, same period, same load, 10 s each.
if [ -z "${SKIP_DAEMON:-}" ]; then
  set +e   # a recorder that fails leaves its row empty; the timings above still print
  tck=$(getconf CLK_TCK)
  cpu_of() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }  # utime+stime, s
  sess=$(mktemp -d); load 40
  "$aot" opcontrol --session-dir "$sess" --start-daemon --event CPU_CLOCK:100000 --callgraph 127 >/dev/null
  dpid=$(cat "$sess/daemon.pid"); c0=$(cpu_of "$dpid")
  "$aot" opcontrol --session-dir "$sess" --start >/dev/null; sleep 10
  "$aot" opcontrol --session-dir "$sess" --stop >/dev/null; "$aot" opcontrol --session-dir "$sess" --dump >/dev/null
  c1=$(cpu_of "$dpid")
  "$aot" opcontrol --session-dir "$sess" --shutdown >/dev/null
  dsamples=$("$aot" opcontrol --session-dir "$sess" --status | awk '/^Samples:/{print $2}')
  /usr/bin/time -f "%U %S" -o "$out/t.$$" perf record -B -a -g -e cpu-clock -c 100000 -o "$sess/perf.data" -- sleep 10 >/dev/null 2>&1 || true
  pcpu=$(awk '{printf "%.2f", $1 + $2}' "$out/t.$$")
  psamples=$(perf report -i "$sess/perf.data" --stats 2>/dev/null | awk '/SAMPLE events/{print $3; exit}')
  unload; rm -rf "$sess"
  echo "daemon-cpu $(awk -v a="$c1" -v b="$c0" 'BEGIN{printf "%.2f", a - b}') ${dsamples:-?}" >> "$times"
  echo "perf-record-cpu $pcpu ${psamples:-?}" >> "$times"
  set -e
fi
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"

med() { awk -v n="$1" -v c="${2:-2}" '$1==n{print $c}' "$times" | sort -n | awk '{a[NR]=$1} END{if(NR) print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
rss() { awk -v n="$1" '$1==n{if($3>m)m=$3} END{printf "%.0f", m/1024}' "$times"; }
printf "%-38s %9s %9s %12s %9s %9s  %s\n" "" median_s cpu_s peak_rss_MB "ratio" cpu_ratio "goal (ratio = perf's median wall time / ours)"
row() { # name, label, reference name, goal ratio (speed-up over the reference), or "" for none
  local m r; m=$(med "$1"); r=$(med "$3")
  awk -v l="$2" -v m="$m" -v r="$r" -v c="$(med "$1" 4)" -v rc="$(med "$3" 4)" -v rs="$(rss "$1")" -v g="$4" -v ref="$3" 'BEGIN{
    ratio = (ref == "" || m == 0) ? "" : sprintf("%.2fx", r / m)
    cratio = (ref == "" || c == 0) ? "" : sprintf("%.2fx", rc / c)
    goal = (g == "") ? "" : sprintf(">= %sx faster: %s", g, (r / m >= g) ? "met" : "missed")
    printf "%-38s %9s %9s %12s %9s %9s  %s\n", l, m, c, rs, ratio, cratio, goal }'
}
row perf-report "perf report (flat, dso,sym)" "" ""
row aot-cold "opreport -l cold, AOT" perf-report 1.5
row aot-warm "opreport -l warm, AOT" perf-report 5
row jit-cold "opreport -l cold, JIT" perf-report ""
row jit-warm "opreport -l warm, JIT" perf-report ""
row perf-flame "perf script|stackcollapse|flamegraph" "" ""
row aot-flame "flame --format svg cold, AOT" perf-flame 20
awk -v p="$(rss perf-report)" -v a="$(rss aot-cold)" -v w="$(rss aot-warm)" 'BEGIN{
  m = (a > w) ? a : w; printf "peak RSS, AOT opreport vs perf report: %d vs %d MB (goal <=: %s)\n", m, p, (m <= p) ? "met" : "missed" }'
if [ -z "${SKIP_DAEMON:-}" ]; then
  awk '$1=="daemon-cpu"{d=$2; ds=$3} $1=="perf-record-cpu"{p=$2; ps=$3} END{
    printf "recorder CPU, 2 CPUs x 10 kHz, 10 s: xenoprof daemon %.2f s (%s samples), perf record -a -g %.2f s (%s samples) (goal <=: %s)\n", d, ds, p, ps, (d <= p) ? "met" : "missed" }' "$times"
fi
rm -f "$out/t.$$"
