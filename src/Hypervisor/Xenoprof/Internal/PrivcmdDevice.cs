using System.Runtime.InteropServices;

namespace XenProf.Hypervisor.Xenoprof.Internal;

/// <summary>The ioctl boundary of <see cref="PrivcmdHypercalls"/>: tests substitute a fake device here.</summary>
internal interface IPrivcmdDevice : IDisposable
{
    /// <summary>Issues <paramref name="request"/> with the <c>privcmd_hypercall</c> block; returns the hypervisor's value or a negated errno.</summary>
    int Hypercall(uint request, ReadOnlySpan<byte> block);
}

/// <summary>The real <c>/dev/xen/privcmd</c> file descriptor.</summary>
internal sealed partial class PrivcmdDevice : IPrivcmdDevice
{
    private int _fd;

    private PrivcmdDevice(int fd) => _fd = fd;

    public static PrivcmdDevice Open(string path)
    {
        if (!File.Exists(path))
            throw new XenUnavailableException($"{path} does not exist: this machine is not a Xen dom0 (or the xen privcmd driver is not loaded); use --hypervisor=emulated:SCENARIO to run the Xen emulator");
        int fd = open(path, 2 /* O_RDWR */ | 0x80000 /* O_CLOEXEC */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new XenUnavailableException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}{(errno is 1 or 13 ? " (run as root in dom0)" : "")}");
        }
        return new PrivcmdDevice(fd);
    }

    public unsafe int Hypercall(uint request, ReadOnlySpan<byte> block)
    {
        fixed (byte* p = block)
        {
            int rc = ioctl(_fd, request, p);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : rc;
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) { close(_fd); _fd = -1; }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, nuint request, byte* arg);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
