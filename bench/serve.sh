#!/usr/bin/env bash
# The browser report on a big session: `flame --format html` (time, peak RSS, file size) and, in headless chromium,
# first render and click times of the served page (`xenoprof serve`) and of the offline file.
#   bash bench/serve.sh          (as root; needs perf, the .NET SDK, chromium, GNU time; run the XenOprof.Tests build
#                                 once so its Playwright driver is in tests/XenOprof.Tests/bin)
# The trace is bench/realistic.sh's (bench/out/real.data, some 1.5 M samples of the whole machine with deep stacks):
# run that first, or RECORD=1 here records it the same way (40 s of `perf record -B -a -g -F 20000` while xz and the
# tests' .NET burner run). It is imported once into bench/out/serve-session. Single runs: the machine is shared.
set -euo pipefail
export PERF_BUILDID_DIR=$(mktemp -d)
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
data=$out/real.data; session=$out/serve-session; report=$out/serve-report.html
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }
driver=$(ls -d tests/XenOprof.Tests/bin/*/net10.0/linux-x64/.playwright 2>/dev/null | head -n 1)
[ -n "$driver" ] || { echo "no Playwright driver: dotnet build tests/XenOprof.Tests first" >&2; exit 1; }
dotnet build src/XenOprof/XenOprof.csproj -c Release -nologo -v q >/dev/null
x=src/XenOprof/bin/Release/net10.0/linux-x64/xenoprof

if [ ! -f "$data" ]; then
  [ -n "${RECORD:-}" ] || { echo "$data is missing: run bench/realistic.sh once, or RECORD=1 bash bench/serve.sh" >&2; exit 1; }
  burner=$out/burner/out/burner
  if [ ! -x "$burner" ]; then
    rm -rf "$out/burner"; mkdir -p "$out/burner"; cp tests/Sampler.Tests/Data/nettrace/burner/* "$out/burner/"
    (cd "$out/burner" && dotnet build -c Release -o out -nologo -v q >/dev/null)
  fi
  [ -f "$out/xz-input" ] || head -c 18M /dev/urandom | base64 > "$out/xz-input"
  ( while :; do xz -9 -T1 -c "$out/xz-input" >/dev/null; done ) & xz_pid=$!
  DOTNET_PerfMapEnabled=1 "$burner" 42 >/dev/null & burner_pid=$!
  sleep 1
  perf record -B -a -g -F 20000 -o "$data" -- sleep 40 >/dev/null 2>&1 || true
  kill $xz_pid $burner_pid 2>/dev/null || true; wait $xz_pid $burner_pid 2>/dev/null || true
fi
[ -f "$session/samples.db" ] || $x import "$data" --session-dir "$session" >/dev/null
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/time -f "%e %M" -o "$out/serve.t" $x flame --session-dir "$session" --format html -o "$report" 2>"$out/serve-flame.log"
read -r wall rss < "$out/serve.t"
echo "flame --format html: ${wall} s, peak RSS $((rss / 1024)) MiB, $(stat -c %s "$report") bytes; $(tail -n 1 "$out/serve-flame.log")"

$x serve "$session" --port 0 > "$out/serve.url" 2>"$out/serve.log" & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$out/serve.url" ] && break; sleep 1; done
url=$(head -n 1 "$out/serve.url")
PLAYWRIGHT_PACKAGE=$PWD/$driver/package "$driver"/node/*/node bench/serve-timing.js "$url" "file://$PWD/$report"
kill $server; wait $server 2>/dev/null || true
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
