# The opcontrol sessions run.sh runs in dom0 when given no command: xenoprof on the real Xen through /dev/xen/privcmd.
#   1. counters only: start, a 3 s busy loop, dump, stop, shutdown, opreport. Under TCG the counters never count, so
#      this session must end with 0 samples and opreport must say why.
#   2. the same with NMIs: run.sh injects NMIs through QEMU's monitor during the busy loop (@@XENPROF-NMI-BEGIN/END),
#      Xen's xenoprof NMI handler logs samples into the real shared buffers, and opreport shows them.
# Each step is echoed; the exit status is the first failing step's. Each session's hypercall log is handed back to
# run.sh through /tmp/export.
mkdir -p /tmp/export
rc=0
step() {
  echo "\$ $*"
  "$@"
  r=$?
  [ $r -eq 0 ] || { echo "(exit status $r)"; [ $rc -ne 0 ] || rc=$r; }
  return $r
}
session() { # NAME NMI
  S=/root/$1
  echo "=== session $1 ==="
  if step xenoprof opcontrol --session-dir=$S --xen=/boot/xen-syms-4.17-amd64 --start-daemon --hypervisor=privcmd; then
    step xenoprof opcontrol --session-dir=$S --start
    if [ "$2" = nmi ]; then
      echo "(run.sh now injects NMIs through QEMU's monitor. They are not PMU overflows: TCG reads every counter MSR"
      echo " as 0, which Xen's athlon model takes as overflowed, so each NMI logs one sample per counter, 4 here.)"
      echo "@@XENPROF-NMI-BEGIN"
    fi
    echo "\$ hotloop 3   (busy loop, 3 s of CPU time)"
    hotloop 3 >/dev/null
    [ "$2" = nmi ] && echo "@@XENPROF-NMI-END"
    step xenoprof opcontrol --session-dir=$S --dump
    step xenoprof opcontrol --session-dir=$S --stop
    step xenoprof opcontrol --session-dir=$S --shutdown
    step xenoprof opreport --session-dir=$S
  fi
  [ -f $S/hypercalls.log ] && cp $S/hypercalls.log /tmp/export/hypercalls-$1.log
  [ -f $S/daemon.log ] && cp $S/daemon.log /tmp/export/daemon-$1.log
}
session counters none
session nmi nmi
cat /tmp/export/hypercalls-counters.log /tmp/export/hypercalls-nmi.log > /tmp/export/hypercalls.log 2>/dev/null
exit $rc
