#!/usr/bin/env bash
# fuzz/run.sh PARSER [EXECS] [SECONDS]: coverage-guided fuzzing of one XenProf parser with afl++ (Debian's afl++
# package) on a SharpFuzz-instrumented build. PARSER is one of the harness names of fuzz/XenProf.Fuzz/Harnesses.cs
# (perf-data perf-script perf-map jitdump kallsyms elf xenoprof nettrace scenario); EXECS (default 1000000) is the
# number of executions after which afl-fuzz stops, SECONDS (default none) an optional time limit.
#
# Seeds: fuzz/corpus/PARSER. Output: fuzz/out/PARSER (afl's queue, crashes/, hangs/; not committed). At the end one
# line "date commit parser execs crashes hangs seconds" is appended to fuzz/results.tsv. Reproduce a finding with
#   dotnet fuzz/out/build/XenProf.Fuzz.dll PARSER --replay fuzz/out/PARSER/default/crashes
# and turn it into a regression test under tests/**/Data/.
#
# Run one afl-fuzz at a time on a small machine: each takes a core.
set -euo pipefail
cd "$(dirname "$0")"
parser=${1:?usage: fuzz/run.sh PARSER [EXECS] [SECONDS]}
execs=${2:-1000000}
seconds=${3:-}
[ -d "corpus/$parser" ] || { echo "fuzz/run.sh: no seed corpus fuzz/corpus/$parser" >&2; exit 1; }
command -v afl-fuzz >/dev/null || { echo "fuzz/run.sh: afl-fuzz not found; install Debian's afl++ package (apt-get install afl++)" >&2; exit 1; }

build=out/build
# Instrument a fresh publish once per source state: instrumenting an assembly twice fails.
stamp=$(git rev-parse HEAD 2>/dev/null || echo none)-$(git status --porcelain -- ../src XenProf.Fuzz 2>/dev/null | md5sum | cut -c1-8)
if [ ! -f "$build/.instrumented" ] || [ "$(cat "$build/.instrumented")" != "$stamp" ]; then
  rm -rf "$build"
  dotnet publish XenProf.Fuzz/XenProf.Fuzz.csproj -c Release -o "$build" -v q -nologo >/dev/null
  dotnet tool restore >/dev/null
  for dll in XenProf.Hypervisor XenProf.Sampler XenProf.Reporter; do
    dotnet tool run sharpfuzz "$build/$dll.dll" >/dev/null
  done
  echo "$stamp" > "$build/.instrumented"
fi

out=out/$parser
mkdir -p "$out"
# A restart resumes the previous queue ("-i -") when there is one.
input="corpus/$parser"
[ -f "$out/default/fuzzer_stats" ] && input=-
# A 4 GiB GC heap limit turns an input that makes a parser allocate what it declares into an OutOfMemoryException (a
# crash afl saves) instead of the OOM killer ending the machine's other work; TMPDIR in memory for the harnesses that
# write files (nettrace's import).
export DOTNET_GCHeapHardLimit=0x100000000 TMPDIR=/dev/shm
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_AUTORESUME=1
start=$(date +%s)
afl-fuzz -i "$input" -o "$out" -t 10000 -m none -E "$execs" ${seconds:+-V "$seconds"} -- dotnet "$build/XenProf.Fuzz.dll" "$parser" || true
stats=$out/default/fuzzer_stats
if [ -f "$stats" ]; then
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(get saved_crashes); hangs=$(get saved_hangs)
  line="$(date -u +%Y-%m-%dT%H:%MZ)	$(git rev-parse --short HEAD 2>/dev/null || echo none)	$parser	$(get execs_done)	${crashes:-$(get unique_crashes)}	${hangs:-$(get unique_hangs)}	$(( $(date +%s) - start ))"
  echo "$line" >> results.tsv
  echo "fuzz/run.sh: $line"
fi
