#!/usr/bin/env bash
# Builds the workload and publishes xenoprof as it is installed for speed: a native AOT executable (no JIT warm-up;
# Debian's gcc links it) in bench/out/xenoprof; prints the executable's path. The benchmarks time this build, so they
# measure what users run, not a debug-friendly one. tests/XenOprof.Tests/NativeBuildTests.cs checks it reports as
# the JIT build does.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/XenOprof/XenOprof.csproj -c Release -v q -nologo >/dev/null   # also builds samples/workload/hotloop
rm -rf bench/out/xenoprof
dotnet publish src/XenOprof/XenOprof.csproj -c Release -r linux-x64 -p:PublishAot=true -o bench/out/xenoprof -v q -nologo >/dev/null
echo bench/out/xenoprof/xenoprof
