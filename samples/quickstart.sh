#!/usr/bin/env bash
# XenProf quick start: build, profile the built-in workload with callchains, print `opreport -l`,
# write the flame graph (SVG) and folded stacks. Usage: bash samples/quickstart.sh [SESSION_DIR]
# Run as root to include kernel samples (without root, kernel samples are excluded and the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
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
