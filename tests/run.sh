#!/usr/bin/env bash
# The README's test command: installs or fetches what the tests need (Debian packages, running apt-get update when
# the package lists are missing; the npm validators; Debian's xen-syms), then runs the whole suite and prints the summary
# line "N passed, N failed, N skipped". Works on a fresh Debian 12 with only the .NET SDK, as root (else what cannot be
# installed is named and the tests that need it skip).
set -uo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists at all: apt-get install and apt-get download both need them.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  apt-get update -qq || echo "warning: apt-get update failed; packages the tests need may be missing"
fi
# gcc builds the built-in workload and test programs; binutils gives nm/readelf/objcopy/strip for symbol
# tests; fonts-dejavu-core gives text in PNG plots; chromium loads the SVG flame graph in a headless test;
# util-linux gives setpriv for the unprivileged-user test; linux-perf records and reports the traces the import
# comparison test checks xenoprof against; golang-go gives `go tool pprof`, the second reader of our pprof exports;
# qemu-system-x86 boots Xen and a dom0 for tests/xen-qemu/run.sh (XenQemuTests; it fetches its own .debs).
# libxml2-utils gives xmllint, which validates opreport --xml against oprofile's schema.
# clickhouse-server (18.16 in Debian 12) is the real server the fleet tests push sessions into and report from.
packages=(gcc libc6-dev binutils fonts-dejavu-core chromium util-linux linux-perf golang-go qemu-system-x86 libxml2-utils clickhouse-server)
# node runs the npm validators of tests/Reporter.Tests/tools; Debian's nodejs/npm only where no node is installed
# (the machine's own node ships its npm, and Debian's npm would conflict with it).
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "warning: could not install ${missing[*]}; tests that need them skip"
fi

# The export tests' external validators (speedscope's schema, pprof-format, ajv), pinned by package-lock.json.
if command -v npm >/dev/null; then
  (cd tests/Reporter.Tests/tools && npm ci --no-audit --no-fund >/dev/null) || echo "warning: npm ci failed; tests that need the npm validators skip"
fi

# The real Xen 4.17 hypervisor image for the Xen tests and the demo: Debian's xen-syms, downloaded and unpacked
# into the XenProf cache (never installed). Tests that need it skip with a reason when this fails.
xen_cache="${XENPROF_CACHE:-$HOME/.cache/xenprof}/xen-4.17"
if [ ! -f "$xen_cache/root/usr/lib/debug/boot/xen-syms-4.17-amd64" ]; then
  mkdir -p "$xen_cache" && (cd "$xen_cache" && apt-get download -qq xen-hypervisor-4.17-amd64-dbg >/dev/null 2>&1 \
    && dpkg -x "$(ls -t xen-hypervisor-4.17-amd64-dbg_*.deb | head -1)" root) \
    || echo "warning: could not fetch xen-hypervisor-4.17-amd64-dbg; Xen tests that need xen-syms skip"
fi

log=$(mktemp)
dotnet test XenProf.sln 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
