#!/usr/bin/env bash
# XenProf quick start: build, profile the built-in workload with callchains, print `opreport -l`,
# write the flame graph (SVG) and folded stacks. Usage: bash samples/quickstart.sh [SESSION_DIR]
# Run as root to include kernel samples (without root, kernel samples are excluded and the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
# The built-in workload is C: a fresh machine with only the .NET SDK gets gcc from Debian (as root).
if ! command -v gcc >/dev/null && [ "$(id -u)" = 0 ]; then
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
fi
command -v gcc >/dev/null || { echo "quickstart: gcc is needed to build the built-in workload (apt-get install gcc libc6-dev, as root)" >&2; exit 1; }
dotnet build -c Release --nologo -v quiet src/XenOprof/XenOprof.csproj >/dev/null
x=src/XenOprof/bin/Release/net10.0/linux-x64/xenoprof
session=${1:-out/quickstart}
"$x" record --session-dir "$session" --callgraph
"$x" opreport -l --session-dir "$session"
"$x" flame --session-dir "$session" --output "$session/flame.svg" --title "hotloop (built-in workload)"
"$x" flame --session-dir "$session" --output "$session/flame.folded"
echo
echo "session store: $(realpath "$session")/samples.db"
echo "flame graph:   $(realpath "$session")/flame.svg"
echo "folded stacks: $(realpath "$session")/flame.folded"
