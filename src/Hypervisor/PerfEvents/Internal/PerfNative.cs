using System.Runtime.InteropServices;

namespace XenProf.Hypervisor.PerfEvents.Internal;

/// <summary>
/// P/Invoke to libc for perf_event_open (via syscall(2); there is no libc wrapper), mmap/munmap, ioctl, close,
/// poll and kill. errno is read with <see cref="Marshal.GetLastPInvokeError"/>. Constants: perf_event_open(2),
/// include/uapi/linux/perf_event.h (PERF_EVENT_IOC_*, <c>struct perf_event_mmap_page</c>); mmap/poll/signal values are the Linux generic ones (asm-generic
/// mman-common.h, poll.h, signal.h), identical on x86_64 and arm64.
/// </summary>
internal static unsafe partial class PerfNative
{
    /// <summary>__NR_perf_event_open: x86_64 298, arm64/riscv64 241 (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h).</summary>
    public static long PerfEventOpenSyscall => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 241,
        Architecture.X86 => 336,
        Architecture.Arm => 364,
        var a => throw new PlatformNotSupportedException($"perf_event_open syscall number unknown for {a}"),
    };

    public const ulong PERF_FLAG_FD_CLOEXEC = 8;

    // ioctls, generic _IOC encoding on LP64 (PERF_EVENT_IOC_* in include/uapi/linux/perf_event.h, include/uapi/asm-generic/ioctl.h).
    public const ulong PERF_EVENT_IOC_ENABLE = 0x2400;
    public const ulong PERF_EVENT_IOC_DISABLE = 0x2401;
    public const ulong PERF_EVENT_IOC_RESET = 0x2403;
    public const ulong PERF_EVENT_IOC_SET_OUTPUT = 0x2405;
    public const ulong PERF_EVENT_IOC_ID = 0x80082407;

    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const short POLLIN = 1, POLLHUP = 0x10;
    public const int SIGKILL = 9, SIGCONT = 18;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall5(long number, PerfEventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial IntPtr Mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(IntPtr addr, nuint length);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, ulong arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoctlPtr(int fd, ulong request, ulong* arg);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, ulong nfds, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>perf_event_open(attr, pid, cpu, group_fd, FD_CLOEXEC); returns the fd, or -1 with <paramref name="errno"/> set.</summary>
    public static int PerfEventOpen(ref PerfEventAttr attr, int pid, int cpu, int groupFd, out int errno)
    {
        long r;
        fixed (PerfEventAttr* p = &attr) r = Syscall5(PerfEventOpenSyscall, p, pid, cpu, groupFd, PERF_FLAG_FD_CLOEXEC);
        errno = r < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)r;
    }

    /// <summary>Symbolic name of an errno value, for messages (Linux asm-generic/errno-base.h, errno.h).</summary>
    public static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM", 2 => "ENOENT", 3 => "ESRCH", 4 => "EINTR", 5 => "EIO", 7 => "E2BIG", 9 => "EBADF",
        12 => "ENOMEM", 13 => "EACCES", 14 => "EFAULT", 16 => "EBUSY", 19 => "ENODEV", 22 => "EINVAL",
        23 => "ENFILE", 24 => "EMFILE", 28 => "ENOSPC", 38 => "ENOSYS", 95 => "EOPNOTSUPP",
        _ => $"errno {errno}",
    };
}
