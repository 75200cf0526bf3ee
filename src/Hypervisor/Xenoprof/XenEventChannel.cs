using System.Runtime.InteropServices;
using XenProf.Hypervisor.Xenoprof.Internal;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// A virtual IRQ of the calling domain bound to an event channel through <c>/dev/xen/evtchn</c>, for a daemon that waits
/// for Xen's "samples ready" signal (<c>VIRQ_XENOPROF</c> = 7, per xen/include/public/xen.h) instead of polling.
/// <c>IOCTL_EVTCHN_BIND_VIRQ</c> returns the local port; reading the device yields the ports that fired (u32 each) and
/// masks them; writing them back unmasks them (Linux include/uapi/xen/evtchn.h, drivers/xen/evtchn.c). Linux binds
/// the VIRQ on VCPU 0 only, so a daemon still drains every VCPU's buffer on a timer. Closing the device unbinds.
/// </summary>
public sealed unsafe class XenEventChannel : IDisposable
{
    /// <summary>Default device path.</summary>
    public const string DevicePath = "/dev/xen/evtchn";

    /// <summary><c>VIRQ_XENOPROF</c>: "new sample available" (xen/include/public/xen.h).</summary>
    public const uint VirqXenoprof = 7;

    /// <summary><c>IOCTL_EVTCHN_BIND_VIRQ</c> = <c>_IOC(_IOC_NONE, 'E', 0, sizeof(struct ioctl_evtchn_bind_virq))</c> = 0x44500 (the struct is one unsigned int).</summary>
    public const uint IoctlBindVirq = (0u << 30) | (4u << 16) | ('E' << 8) | 0;

    private int _fd;

    private XenEventChannel(int fd, uint virq, uint port) { _fd = fd; Virq = virq; Port = port; }

    /// <summary>The VIRQ bound.</summary>
    public uint Virq { get; }

    /// <summary>The local event-channel port Xen allocated.</summary>
    public uint Port { get; }

    /// <summary>Events received so far.</summary>
    public long Events { get; private set; }

    /// <summary>
    /// Binds <paramref name="virq"/>; <paramref name="log"/> gets one line. Throws <see cref="XenUnavailableException"/>
    /// when the device is absent (not a Xen dom0, or the evtchn driver is not loaded: <c>modprobe xen-evtchn</c>) or the
    /// bind fails (the message gives the errno).
    /// </summary>
    public static XenEventChannel BindVirq(uint virq = VirqXenoprof, string devicePath = DevicePath, TextWriter? log = null)
    {
        if (!File.Exists(devicePath))
            throw new XenUnavailableException($"{devicePath} does not exist: the xen event-channel driver is not loaded (modprobe xen-evtchn) or this is not a Xen domain");
        int fd = Posix.OpenOrThrow(devicePath);
        uint arg = virq;
        int rc = Posix.ioctl(fd, IoctlBindVirq, (byte*)&arg);
        if (rc < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Posix.close(fd);
            log?.WriteLine($"IOCTL_EVTCHN_BIND_VIRQ (virq={virq}) -> {PrivcmdHypercalls.Errno(errno)}");
            log?.Flush();
            throw new XenUnavailableException($"binding VIRQ {virq} through {devicePath} failed: {PrivcmdHypercalls.Errno(errno)}");
        }
        log?.WriteLine($"IOCTL_EVTCHN_BIND_VIRQ (virq={virq}) -> port {rc}");
        log?.Flush();
        return new XenEventChannel(fd, virq, (uint)rc);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the VIRQ; returns how many times it fired (0 on timeout). Fired ports
    /// are unmasked again before returning. Throws <see cref="IOException"/> when the device reports an error.
    /// </summary>
    public int Wait(TimeSpan timeout)
    {
        if (_fd < 0) throw new ObjectDisposedException(nameof(XenEventChannel));
        var pfd = new Posix.PollFd { Fd = _fd, Events = Posix.PollIn };
        int rc = Posix.poll(&pfd, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (rc < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == 4 /* EINTR */) return 0;
            throw new IOException($"poll on {DevicePath}: {PrivcmdHypercalls.Errno(errno)}");
        }
        if (rc == 0 || (pfd.Revents & Posix.PollIn) == 0) return 0;
        uint* ports = stackalloc uint[64];
        nint n = Posix.read(_fd, (byte*)ports, 64 * sizeof(uint));
        if (n < 0) throw new IOException($"read from {DevicePath}: {PrivcmdHypercalls.Errno(Marshal.GetLastPInvokeError())}");
        if (n > 0) Posix.write(_fd, (byte*)ports, (nuint)n);
        int fired = (int)(n / sizeof(uint));
        Events += fired;
        return fired;
    }

    /// <summary>Closes the device, which unbinds the port.</summary>
    public void Dispose()
    {
        if (_fd >= 0) { Posix.close(_fd); _fd = -1; }
    }
}
