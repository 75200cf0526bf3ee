#!/usr/bin/env bash
# Boots Xen 4.17 and a Linux 6.1 dom0 under QEMU (TCG, no KVM needed), runs a xenoprof command inside dom0 on the
# real hypervisor, prints its output and exits with its exit code. Everything comes from Debian packages
# (xen-hypervisor-4.17-amd64, linux-image-6.1.0-*-amd64-unsigned, busybox-static) plus the Native AOT xenoprof.
#
#   tests/xen-qemu/run.sh                         the opcontrol session of dom0-session.sh; prints its output, then
#                                                 the hypercall log (one line per hypercall: name and result)
#   tests/xen-qemu/run.sh [OPTIONS] -- ARGS...    runs `xenoprof ARGS...` in dom0
#   tests/xen-qemu/run.sh [OPTIONS] --sh 'CMDS'   runs the sh commands CMDS in dom0 (xenoprof is on PATH)
#
# Options:
#   --out DIR        keep console.log, output.txt, hypercalls.log, timing.txt there (default: a new temp dir)
#   --timeout SEC    bound on the whole QEMU run (default $XENPROF_QEMU_TIMEOUT or 240); QEMU is killed after it
#   --aot DIR        use this `dotnet publish -p:PublishAot=true` output instead of publishing (or cached one)
# Environment: XENPROF_CACHE (default ~/.cache/xenprof) holds the .debs, their extraction and the AOT build.
# Exit status: the dom0 command's, 124 when the run timed out, 125 when the image could not be built or booted.
set -euo pipefail
{ # the whole script is one compound command, parsed before it runs, so editing this file mid-run is harmless

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${XENPROF_CACHE:-$HOME/.cache/xenprof}
timeout_s=${XENPROF_QEMU_TIMEOUT:-240}
out=""
aot=""
mode=session
guest_args=()
sh_cmds=""

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --aot) aot=$2; shift 2 ;;
    --sh) mode=sh; sh_cmds=$2; shift 2 ;;
    --) shift; mode=args; guest_args=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 125 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 125; }
log() { echo "run.sh: $*" >&2; }

[ -n "$out" ] || out=$(mktemp -d /tmp/xen-qemu.XXXXXX)
mkdir -p "$out" "$cache/debs"
out=$(cd "$out" && pwd)

# --- tools ---------------------------------------------------------------------------------------------------------
if ! command -v qemu-system-x86_64 >/dev/null; then
  log "installing qemu-system-x86 (apt-get --no-install-recommends)"
  [ "$(id -u)" = 0 ] || die "qemu-system-x86_64 is missing and installing it needs root: apt-get install --no-install-recommends qemu-system-x86"
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then timeout 300 apt-get update -qq || die "apt-get update failed"; fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null \
    || die "apt-get install qemu-system-x86 failed"
fi

# --- Debian packages: apt-get download + dpkg -x into the cache ----------------------------------------------------
fetch_deb() { # PACKAGE: downloads it into $cache/debs unless a .deb of it is there
  local pkg=$1
  ls "$cache/debs/${pkg}_"*.deb >/dev/null 2>&1 && return 0
  if ! (cd "$cache/debs" && timeout 600 apt-get download -q "$pkg" >/dev/null 2>&1); then
    [ "$(id -u)" = 0 ] && timeout 300 apt-get update -qq >/dev/null 2>&1 || true
    (cd "$cache/debs" && timeout 600 apt-get download -q "$pkg" >/dev/null) || die "apt-get download $pkg failed"
  fi
}
# The dom0 kernel: the unsigned image package that linux-image-amd64 depends on (privcmd and evtchn are modules there).
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | head -1)
if [ -z "$kpkg" ]; then
  kpkg=$(ls "$cache/debs" 2>/dev/null | sed -n 's/^\(linux-image-6\.1\.[0-9]*-[0-9]*-amd64\)-unsigned_.*/\1/p' | head -1)
fi
[ -n "$kpkg" ] || die "cannot tell which linux-image-6.1 package linux-image-amd64 depends on (apt-get update?)"
# xen-hypervisor-4.17-amd64-dbg gives xen-syms (Xen's symbols for opreport); the stripped ELF stands in without it.
for p in xen-hypervisor-4.17-amd64 xen-hypervisor-4.17-amd64-dbg "${kpkg}-unsigned" busybox-static; do fetch_deb "$p"; done
root="$cache/extracted"
if [ ! -f "$root/.done-2-$kpkg" ]; then
  rm -rf "$root"; mkdir -p "$root"
  for d in "$cache/debs/"xen-hypervisor-4.17-amd64_*.deb "$cache/debs/"xen-hypervisor-4.17-amd64-dbg_*.deb \
           "$cache/debs/${kpkg}-unsigned_"*.deb "$cache/debs/"busybox-static_*.deb; do
    dpkg -x "$d" "$root"
  done
  touch "$root/.done-2-$kpkg"
fi
kver=${kpkg#linux-image-}
vmlinuz="$root/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "$vmlinuz missing after dpkg -x"
zcat "$root/boot/xen-4.17-amd64.gz" > "$cache/xen"   # ELF32 multiboot image, which QEMU's -kernel loads

# --- xenoprof, Native AOT ------------------------------------------------------------------------------------------
if [ -z "$aot" ]; then
  # Keyed by the content of every source file it is built from, committed or not.
  key=$(cd "$repo" && find src samples/workload Directory.Build.props Directory.Packages.props -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 \
    | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)
  aot="$cache/aot-$key"
  if [ ! -x "$aot/xenoprof" ]; then
    log "publishing xenoprof (Native AOT) into $aot"
    rm -rf "$cache"/aot-*
    (cd "$repo" && timeout 900 dotnet publish src/XenOprof/XenOprof.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$aot" -v q -nologo >"$out/publish.log" 2>&1) \
      || { tail -20 "$out/publish.log" >&2; die "dotnet publish failed (log: $out/publish.log)"; }
  fi
fi
[ -x "$aot/xenoprof" ] || die "$aot/xenoprof is not an executable"

# --- initramfs -----------------------------------------------------------------------------------------------------
ird="$out/initramfs"
rm -rf "$ird"; mkdir -p "$ird"/{bin,dev,proc,sys,tmp,root,lib/modules,opt/xenoprof,etc}
cp "$root/bin/busybox" "$ird/bin/busybox"
cp "$root/lib/modules/$kver/kernel/drivers/xen/xen-privcmd.ko" "$root/lib/modules/$kver/kernel/drivers/xen/xen-evtchn.ko" "$ird/lib/modules/"
# xenoprof and the native libraries it loads, with the glibc shared objects they link (ldd names them).
cp "$aot/xenoprof" "$ird/opt/xenoprof/"
for so in "$aot"/*.so; do [ -e "$so" ] && cp "$so" "$ird/opt/xenoprof/"; done
[ -x "$aot/hotloop" ] && cp "$aot/hotloop" "$ird/opt/xenoprof/"
for f in "$ird/opt/xenoprof/"*; do
  ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$ird$(dirname "$lib")"
  cp -L "$lib" "$ird$lib"
done
mkdir -p "$ird/boot" && cp "$cache/xen" "$ird/boot/xen-4.17-amd64"   # for opcontrol --xen=
xsyms="$root/usr/lib/debug/boot/xen-syms-4.17-amd64"
if [ -f "$xsyms" ]; then cp "$xsyms" "$ird/boot/"; else cp "$cache/xen" "$ird/boot/xen-syms-4.17-amd64"; fi
echo "root:x:0:0:root:/root:/bin/sh" > "$ird/etc/passwd"
cp "$here/init" "$ird/init"; chmod +x "$ird/init"
case $mode in
  session) cp "$here/dom0-session.sh" "$ird/job.sh" ;;
  sh) printf '%s\n' "$sh_cmds" > "$ird/job.sh" ;;
  args) { printf 'exec xenoprof'; printf " '%s'" "${guest_args[@]//\'/\'\\\'\'}"; echo; } > "$ird/job.sh" ;;
esac
(cd "$ird" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initrd.gz")
rm -rf "$ird"

# --- boot ----------------------------------------------------------------------------------------------------------
# qemu64 (QEMU's default CPU) reports AuthenticAMD family 15: Xen's xenoprof picks op_model_athlon, cpu_type
# x86-64/hammer. One VCPU keeps TCG fast; dom0 gets 512 MiB. The first multiboot module is dom0's kernel with its
# command line, the second the initramfs. Xen's own and guests' debug messages go to the serial console too.
console="$out/console.log"
: > "$console"
qemu_pid=""
drain_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill -KILL "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "$drain_pid" ]; then kill "$drain_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
start=$(date +%s.%N)
# The human monitor listens on a pair of FIFOs (QEMU opens both read-write, so writers never see EOF): while dom0
# prints @@XENPROF-NMI-BEGIN … @@XENPROF-NMI-END, run.sh sends the monitor's `nmi` every 0.25 s. TCG has no
# performance counters, so these NMIs are the only way Xen's xenoprof NMI handler runs here.
mon="$out/monitor"
rm -f "$mon.in" "$mon.out"; mkfifo "$mon.in" "$mon.out"
qemu-system-x86_64 -accel tcg -cpu qemu64 -m 1024 -smp 1 -nographic -no-reboot -monitor "pipe:$mon" -serial "file:$console" \
  -kernel "$cache/xen" -append "console=com1 com1=115200 dom0_mem=512M loglvl=all guest_loglvl=all" \
  -initrd "$vmlinuz console=hvc0 quiet loglevel=3,$out/initrd.gz" </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
exec 7<>"$mon.out"   # drain the monitor's replies so its FIFO never fills
cat <&7 >"$out/monitor.log" & drain_pid=$!
exec 7<&-
booted=""; status=""; nmis=0; last_nmi=0
deadline=$(( $(date +%s) + timeout_s ))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ -z "$booted" ] && grep -q '^@@XENPROF-BOOTED' "$console" 2>/dev/null; then booted=$(date +%s.%N); fi
  if [ "$(date +%s)" -ge "$deadline" ]; then status=timeout; break; fi
  if grep -q '^@@XENPROF-NMI-BEGIN' "$console" 2>/dev/null && ! grep -q '^@@XENPROF-NMI-END' "$console" 2>/dev/null; then
    timeout 2 sh -c 'echo nmi > "$1"' _ "$mon.in" && nmis=$((nmis + 1))
  fi
  sleep 0.25
done
if [ "$status" = timeout ]; then
  kill -KILL "$qemu_pid" 2>/dev/null || true
  wait "$qemu_pid" 2>/dev/null || true
else
  wait "$qemu_pid" || status="qemu exited $?"
fi
end=$(date +%s.%N)
qemu_pid=""
kill "$drain_pid" 2>/dev/null || true; wait "$drain_pid" 2>/dev/null || true
rm -f "$mon.in" "$mon.out"
[ -n "${XENPROF_KEEP_IMAGE:-}" ] || rm -f "$out/initrd.gz"   # 15 MB; XENPROF_KEEP_IMAGE=1 keeps it
[ -n "$booted" ] || { grep -q '^@@XENPROF-BOOTED' "$console" && booted=$end; } || true

tr -d '\r' < "$console" > "$console.tmp" && mv "$console.tmp" "$console"
# Text between markers, without Xen's "(XEN)" lines that interleave on the shared serial line.
section() { awk -v b="$1" -v e="$2" '$0 ~ "^"e {p=0} p && !/^\(XEN\)/ {print} $0 ~ "^"b {p=1}' "$console"; }
section '@@XENPROF-OUT-BEGIN' '@@XENPROF-OUT-END' > "$out/output.txt"
for f in $(sed -n 's/^@@XENPROF-FILE \(.*\)/\1/p' "$console"); do
  section "@@XENPROF-FILE $f" '@@XENPROF-FILE-END' > "$out/$f"
done
rc=$(sed -n 's/^@@XENPROF-EXIT \([0-9]*\).*/\1/p' "$console" | tail -1)
{
  if [ -n "$booted" ]; then awk -v a="$start" -v b="$booted" 'BEGIN { printf "boot to dom0 /init: %.1f s\n", b - a }'; else echo "boot to dom0 /init: not reached"; fi
  awk -v a="$start" -v b="$end" 'BEGIN { printf "whole run (boot, command, poweroff): %.1f s\n", b - a }'
  echo "NMIs injected through the QEMU monitor: $nmis"
} > "$out/timing.txt"

cat "$out/output.txt"
if [ "$mode" = session ] && [ -s "$out/hypercalls.log" ]; then
  echo "--- hypercall log ---"
  cat "$out/hypercalls.log"
fi
echo "--- $(tr '\n' ';' < "$out/timing.txt" | sed 's/;$//; s/;/; /g'); files in $out ---" >&2
if [ "$status" = timeout ]; then
  echo "run.sh: timed out after ${timeout_s} s; QEMU killed (tail of $console follows)" >&2
  tail -15 "$console" >&2
  exit 124
fi
if [ -z "$rc" ]; then
  echo "run.sh: dom0 did not report an exit code (${status:-QEMU exited}); tail of $console:" >&2
  tail -25 "$console" >&2
  exit 125
fi
exit "$rc"
}
