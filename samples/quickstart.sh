#!/usr/bin/env bash
# XenProf quick start: build (Native AOT, into bench/out/xenoprof/), profile the built-in workload with callchains, print `opreport -l`,
# write the flame graph (SVG) and folded stacks. Usage: bash samples/quickstart.sh [SESSION_DIR]
# Run as root to include kernel samples (without root, kernel samples are excluded and the report says so).
set -euo pipefail
# What a non-root user cannot see, in one line, and how to see it: kernel samples need perf_event_paranoid <= 1
# (perf_event_open(2); Debian's 3 refuses unprivileged sampling altogether) and kernel symbol addresses need
# kptr_restrict = 0 (Documentation/admin-guide/sysctl/kernel.rst). Empty for root.
hidden() {
  [ "$(id -u)" = 0 ] && return 0
  local p k what=""
  p=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2); k=$(cat /proc/sys/kernel/kptr_restrict 2>/dev/null || echo 1)
  if [ "$p" -ge 3 ]; then what="no samples at all (kernel.perf_event_paranoid=$p refuses unprivileged perf_event_open)"
  elif [ "$p" -ge 2 ]; then what="no kernel samples (kernel.perf_event_paranoid=$p allows user space only)"; fi
  if [ "$k" -ge 1 ]; then what="${what:+$what and }no kernel symbol names (kernel.kptr_restrict=$k hides the addresses in /proc/kallsyms)"; fi
  [ -z "$what" ] && return 0
  echo "quickstart: as $(id -un) this shows $what; to see everything run it as root (sudo bash samples/quickstart.sh) or lower them: sudo sysctl kernel.perf_event_paranoid=1 kernel.kptr_restrict=0"
}
cd "$(dirname "$0")/.."
# The built-in workload is C: a fresh machine with only the .NET SDK gets gcc from Debian (as root).
if ! command -v gcc >/dev/null && [ "$(id -u)" = 0 ]; then
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi
command -v gcc >/dev/null || { echo "quickstart: gcc is needed to build the built-in workload (apt-get install gcc libc6-dev, as root)" >&2; exit 1; }
# The build users run: the Native AOT executable, with the workload beside it (bench/publish.sh; a few minutes the first time).
x=$(bash bench/publish.sh)
session=${1:-out/quickstart}
note=$(hidden)
[ -n "$note" ] && echo "$note" >&2
if [ -n "$note" ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)" -ge 3 ]; then exit 1; fi
"$x" record --session-dir "$session" --callgraph
"$x" opreport -l --session-dir "$session"
"$x" flame --session-dir "$session" --output "$session/flame.svg" --title "hotloop (built-in workload)"
"$x" flame --session-dir "$session" --output "$session/flame.folded"
echo
echo "session store: $(realpath "$session")/samples.db"
echo "flame graph:   $(realpath "$session")/flame.svg"
echo "folded stacks: $(realpath "$session")/flame.folded"
[ -z "$note" ] || echo "$note"
