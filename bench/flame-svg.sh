#!/usr/bin/env bash
# Flame graph speed, side by side on one perf.data in one run (issue 6's goal: a cold `xenoprof flame FILE --format
# svg`, import included, at least 20x faster than the perf script pipeline, with a peak RSS no larger than perf
# script's). Times, alternating over RUNS runs:
#   A   perf script | stackcollapse-perf.pl | flamegraph.pl > A.svg
#   A0  perf script > /dev/null alone: the memory yardstick, and a floor on A's time (A cannot end before it)
#   B   cold: xenoprof flame FILE --format svg (FILE.xenoprof, the cached import, removed first)
#   C   warm: the same command on the cached import
# then prints the median wall time and the peak RSS (max over runs) of each, the two ratios against the goal, and the
# root frame and widest frames of A.svg and B.svg, which should agree.
#   bash bench/flame-svg.sh [PERF_DATA] [RUNS]   (as root; PERF_DATA defaults to bench/out/big.data, which
#                                                  bench/perf-import.sh records; RUNS defaults to 5)
# FlameGraph's scripts are not part of this tree; they are fetched into bench/out/tools at bench time:
#   flamegraph.pl         Brendan Gregg's original, as vendored in Debian's ruby-stackprof package (apt-get download).
#   stackcollapse-perf.pl no Debian or npm package ships it. Unless FLAMEGRAPH_DIR names a FlameGraph checkout, A
#                         uses perf's own port of it instead (stackcollapse.py, "based on Brendan Gregg's
#                         stackcollapse-perf.pl", shipped with perf): perf script report stackcollapse | flamegraph.pl.
# A pipeline's peak RSS is its largest stage's (wait4 reports the largest descendant), not their sum.
set -euo pipefail
# A private build-id cache: perf 6.1 here asserts (util/build-id.c) on a ~/.debug other perf runs write meanwhile.
export PERF_BUILDID_DIR=$(mktemp -d)
cd "$(dirname "$0")/.."
data=${1:-bench/out/big.data}
runs=${2:-5}
[ -f "$data" ] || { echo "no $data: record one with bench/perf-import.sh, or pass a perf.data" >&2; exit 1; }
out=bench/out/flame; rm -rf "$out"; mkdir -p "$out"
tools=bench/out/tools; mkdir -p "$tools"
xen=$(bash bench/publish.sh)

# flamegraph.pl: unpacked from the Debian package, not installed (ruby-stackprof keeps it under vendor/FlameGraph).
if [ ! -x "$tools/flamegraph.pl" ]; then
  rm -rf "$tools/deb"; mkdir -p "$tools/deb"
  (cd "$tools/deb" && apt-get download ruby-stackprof >/dev/null 2>&1) \
    || { echo "apt-get download ruby-stackprof failed (run apt-get update first?)" >&2; exit 1; }
  dpkg-deb -x "$tools"/deb/ruby-stackprof_*.deb "$tools/deb/root"
  cp "$(find "$tools/deb/root" -path '*/vendor/FlameGraph/flamegraph.pl' | head -n 1)" "$tools/flamegraph.pl"
  echo "ruby-stackprof $(dpkg-deb -f "$tools"/deb/ruby-stackprof_*.deb Version)" > "$tools/flamegraph.pl.source"
fi
if [ -n "${FLAMEGRAPH_DIR:-}" ]; then
  pipeline="perf script -i '$data' | '$FLAMEGRAPH_DIR/stackcollapse-perf.pl' | '$FLAMEGRAPH_DIR/flamegraph.pl'"
  label="perf script | stackcollapse-perf.pl | flamegraph.pl (FlameGraph from $FLAMEGRAPH_DIR)"; kind=""
else
  pipeline="perf script report stackcollapse -i '$data' | '$tools/flamegraph.pl'"
  label="perf script report stackcollapse (perf's stackcollapse.py, STAND-IN for stackcollapse-perf.pl)
    | flamegraph.pl (original, from Debian $(cat "$tools/flamegraph.pl.source"))"; kind=" (stand-in)"
fi

measure() { # name, command...: appends "name wall_s peak_kib" to times.txt; the command's stderr goes to NAME.log
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t" "$@" 2>"$out/$name.log" \
    || { echo "$name failed; see $out/$name.log" >&2; exit 1; }
  echo "$name $(cat "$out/t")" >> "$out/times.txt"
}
echo "file: $data ($(du -mL "$data" | cut -f1) MB), $runs runs"
echo "A: $label"
for ((i = 0; i < runs; i++)); do
  measure A0 sh -c "perf script -i '$data' > /dev/null"
  measure A sh -c "$pipeline > '$out/A.svg'"
  rm -rf "$data.xenoprof"
  measure B "$xen" flame "$data" --format svg --output "$out/B.svg"
  measure C "$xen" flame "$data" --format svg --output "$out/B.svg"
done

printf "%-28s %10s %12s\n" "" median_s peak_rss_MB
for name in A A0 B C; do
  med=$(awk -v n=$name '$1==n{print $2}' "$out/times.txt" | sort -n \
    | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
  rss=$(awk -v n=$name '$1==n{if($3>m)m=$3} END{printf "%.0f", m/1024}' "$out/times.txt")
  echo "$name $med $rss" >> "$out/summary.txt"
  case $name in
    A) what="A  perf pipeline$kind";; A0) what="A0 perf script alone";;
    B) what="B  xenoprof cold (import)";; C) what="C  xenoprof warm";;
  esac
  printf "%-28s %10s %12s\n" "$what" "$med" "$rss"
done
awk '{t[$1]=$2; m[$1]=$3} END{
  printf "speed-up, cold B vs A:      %6.1fx (goal >= 20x)\n", t["A"]/t["B"]
  printf "speed-up, cold B vs A0:     %6.1fx (a lower bound of B vs the real pipeline, whose first stage A0 is)\n", t["A0"]/t["B"]
  printf "peak RSS, B / A0:           %6.2f  (goal <= 1; %d vs %d MB)\n", m["B"]/m["A0"], m["B"], m["A0"]
}' "$out/summary.txt"

# The two graphs should be alike: same sample count in the root frame, and much the same widest frames.
frames() { # svg: "samples name" per frame, widest first
  sed -n 's/.*<title>\(.*\) (\([0-9,]*\) samples.*<\/title>.*/\2 \1/p' "$1" | tr -d , | sort -rn -k1,1 | head -n 8
}
echo "widest frames (samples name):   A.svg | B.svg"
paste -d '|' <(frames "$out/A.svg") <(frames "$out/B.svg") | awk -F'|' '{printf "  %-46.46s | %s\n", $1, $2}'
