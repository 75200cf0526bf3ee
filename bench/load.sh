#!/usr/bin/env bash
# The opcontrol daemon under load for 60 s (the suite's LoadTests runs the same for 10 s): both CPUs in 24-deep
# recursion (tests/XenOprof.Tests/Data/load/deeprec.c), sampled system-wide at 20 kHz per CPU (CPU_CLOCK:50000) with
# 16-deep callchains, `opcontrol --dump` every second and `opreport -l` alongside. Prints samples kept and lost (as the
# report header counts them), throttle events, the dumps and reports that ran, and the daemon's peak RSS (VmHWM)
# against the test's bound.
#   bench/load.sh [SECONDS]          (as root; needs gcc, perf_event and the .NET SDK)
set -euo pipefail
cd "$(dirname "$0")/.."
export PERF_BUILDID_DIR=$(mktemp -d)
export XENPROF_LOAD_SECONDS=${1:-60}
dotnet test tests/XenOprof.Tests/XenOprof.Tests.csproj -c Release --filter "FullyQualifiedName~LoadTests" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "^ +[0-9]+ s, |deepest|Passed|Failed|Assert|Skipped" || true
