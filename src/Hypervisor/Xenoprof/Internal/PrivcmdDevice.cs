using System.Runtime.InteropServices;

namespace XenProf.Hypervisor.Xenoprof.Internal;

/// <summary>The ioctl and mmap boundary of <see cref="PrivcmdHypercalls"/>: tests substitute a fake device here.</summary>
internal interface IPrivcmdDevice : IDisposable
{
    /// <summary>Issues ioctl <paramref name="request"/> with <paramref name="block"/>; returns the ioctl's value (for a hypercall, the hypervisor's) or a negated errno.</summary>
    int Hypercall(uint request, ReadOnlySpan<byte> block);

    /// <summary>
    /// Reserves <paramref name="length"/> bytes of address space backed by the device (<c>mmap(MAP_SHARED)</c> of the
    /// privcmd file; Linux fills it only through the MMAPBATCH ioctls). Returns the address, or a negated errno.
    /// </summary>
    nint Map(long length);

    /// <summary>Releases a range <see cref="Map"/> returned (<c>munmap</c>).</summary>
    void Unmap(nint address, long length);
}

/// <summary>The real <c>/dev/xen/privcmd</c> file descriptor.</summary>
internal sealed partial class PrivcmdDevice : IPrivcmdDevice
{
    private int _fd;

    private PrivcmdDevice(int fd) => _fd = fd;

    public static PrivcmdDevice Open(string path)
    {
        if (!File.Exists(path))
            throw new XenUnavailableException($"{path} does not exist: this machine is not a Xen dom0 (or the xen privcmd driver is not loaded: modprobe xen-privcmd); use --hypervisor=emulated:SCENARIO to run the Xen emulator");
        return new PrivcmdDevice(Posix.OpenOrThrow(path));
    }

    public unsafe int Hypercall(uint request, ReadOnlySpan<byte> block)
    {
        fixed (byte* p = block)
        {
            int rc = Posix.ioctl(_fd, request, p);
            return rc < 0 ? -Marshal.GetLastPInvokeError() : rc;
        }
    }

    public nint Map(long length)
    {
        nint a = Posix.mmap(0, (nuint)length, Posix.ProtRead | Posix.ProtWrite, Posix.MapShared, _fd, 0);
        return a == -1 ? -Marshal.GetLastPInvokeError() : a;
    }

    public void Unmap(nint address, long length) => Posix.munmap(address, (nuint)length);

    public void Dispose()
    {
        if (_fd >= 0) { Posix.close(_fd); _fd = -1; }
    }
}

/// <summary>The libc calls the Xen device files need; constants per Linux's asm-generic/mman-common.h, fcntl.h and poll.h.</summary>
internal static partial class Posix
{
    public const int ORdwr = 2, OCloexec = 0x80000;
    public const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    public const short PollIn = 1;

    /// <summary>Opens <paramref name="path"/> read-write; a <see cref="XenUnavailableException"/> names the errno.</summary>
    public static int OpenOrThrow(string path)
    {
        int fd = open(path, ORdwr | OCloexec);
        if (fd >= 0) return fd;
        int errno = Marshal.GetLastPInvokeError();
        throw new XenUnavailableException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}{(errno is 1 or 13 ? " (run as root in dom0)" : "")}");
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ioctl(int fd, nuint request, byte* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, nuint nfds, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport("libc")]
    public static partial int close(int fd);

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
