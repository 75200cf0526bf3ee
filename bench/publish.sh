#!/usr/bin/env bash
# Builds the workload and publishes xenoprof as it is installed (ReadyToRun, framework-dependent) into bench/out/xenoprof;
# prints the path of xenoprof.dll. Used by the benchmarks so they time what users run, not a debug-friendly build.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/XenOprof/XenOprof.csproj -c Release -v q -nologo >/dev/null   # also builds samples/workload/hotloop
dotnet publish src/XenOprof/XenOprof.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o bench/out/xenoprof -v q -nologo >/dev/null
echo bench/out/xenoprof/xenoprof.dll
