using XenProf.Hypervisor.PerfEvents.Internal;

namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// perf_event_open (or the mmap/ioctl that follows it) failed. Carries the <see cref="Errno"/> and the event
/// name, with a message written for the user that names the cause and a fix, e.g.
/// <c>event CPU_CLK_UNHALTED (perf hardware cpu-cycles) is not supported by this machine's PMU (perf_event_open: ENOENT); try CPU_CLOCK</c>.
/// </summary>
public sealed class PerfEventOpenException : XenProf.Hypervisor.Binary.XenProfUserException
{
    /// <summary>Creates the exception with a ready message.</summary>
    public PerfEventOpenException(string eventName, int errno, string message) : base(message)
    {
        EventName = eventName;
        Errno = errno;
    }

    /// <summary>Event (oprofile or perf spelling) that failed, or the ring name for mmap failures.</summary>
    public string EventName { get; }
    /// <summary>errno from the failing call (2 ENOENT, 13 EACCES…).</summary>
    public int Errno { get; }
    /// <summary>Symbolic errno (ENOENT, EACCES…).</summary>
    public string ErrnoName => PerfNative.ErrnoName(Errno);
    /// <summary>True if the failure means the machine cannot count this event at all (ENOENT, EOPNOTSUPP, ENODEV).</summary>
    public bool IsUnsupportedEvent => Errno is 2 or 95 or 19;

    /// <summary>Builds the user-facing message for a failed perf_event_open of <paramref name="request"/>.</summary>
    /// <param name="request">The event.</param>
    /// <param name="errno">errno of the call.</param>
    /// <param name="pid">pid argument (-1 system-wide).</param>
    /// <param name="cpu">cpu argument (-1 any).</param>
    public static PerfEventOpenException ForOpen(PerfEventRequest request, int errno, int pid, int cpu)
    {
        string e = PerfNative.ErrnoName(errno);
        string what = $"event {request.Name} ({request.PerfDescription})";
        string where = cpu >= 0 ? $" on cpu {cpu}" : "";
        string msg = errno switch
        {
            2 or 95 or 19 when request.Type is PerfType.Hardware or PerfType.HwCache or PerfType.Raw =>
                $"{what} is not supported by this machine's PMU (perf_event_open: {e}); try CPU_CLOCK",
            2 or 95 or 19 => $"{what} is not supported by this kernel (perf_event_open: {e})",
            1 or 13 => $"permission denied opening {what}{where} (perf_event_open: {e}): " +
                       (pid < 0 ? "system-wide sampling" : $"sampling pid {pid}") +
                       $" needs root or CAP_PERFMON, or a lower /proc/sys/kernel/perf_event_paranoid (now {ReadParanoid()})",
            3 => $"no such process: pid {pid} (perf_event_open: {e}) while opening {what}",
            24 or 23 => $"too many open files opening {what}{where} (perf_event_open: {e}); raise the limit (ulimit -n) or sample fewer events or CPUs",
            16 => $"{what} is busy{where}: another tool holds the PMU exclusively (perf_event_open: {e})",
            7 => $"the kernel rejected the 136-byte perf_event_attr for {what} (perf_event_open: {e}); it is older than 6.3",
            22 => $"invalid settings for {what}{where} (perf_event_open: {e}): the count {request.Period} or an exclude/callchain option may not be accepted by this kernel",
            _ => $"perf_event_open failed for {what}{where}: {e}",
        };
        return new PerfEventOpenException(request.Name, errno, msg);
    }

    private static string ReadParanoid()
    {
        try { return File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim(); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
