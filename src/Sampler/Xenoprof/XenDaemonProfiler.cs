using System.Diagnostics;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Session;

namespace XenProf.Sampler.Xenoprof;

/// <summary>
/// The opcontrol daemon's profiler for a Xen session on the emulated hypervisor: Xen is set up when the daemon
/// starts (as opcontrol <c>--start-daemon</c> did), <see cref="Enable"/> is XENOPROF_start, and simulated time follows
/// the wall clock while profiling, so <c>opcontrol --start; sleep 2; opcontrol --stop</c> samples two seconds.
/// Shutting the daemon down tears Xen down and stores its counters.
/// </summary>
public sealed class XenDaemonProfiler : IDaemonProfiler
{
    private readonly EmulatedXenRun _run;
    private readonly EmulatedHypervisor _xen;
    private readonly Stopwatch _clock = new();
    private long _baseNs;

    private XenDaemonProfiler(EmulatedXenRun run, EmulatedHypervisor xen) { _run = run; _xen = xen; }

    /// <summary>Sets up a session on <paramref name="xen"/> (which this profiler then owns) for <paramref name="dir"/>, appending to the samples already stored there.</summary>
    public static XenDaemonProfiler Open(SessionDirectory dir, XenSessionOptions options, EmulatedHypervisor xen, TextWriter? log)
    {
        try { return new XenDaemonProfiler(EmulatedXenRun.Open(dir, options, xen, log, append: true), xen); }
        catch { xen.Dispose(); throw; }
    }

    /// <inheritdoc/>
    public long Samples => _run.Samples;

    /// <inheritdoc/>
    public XenProf.Sampler.Store.SessionStore Store => _run.Store;

    /// <inheritdoc/>
    public long LostSamples => _xen.Counters.Lost;

    /// <inheritdoc/>
    public bool IsEnabled => _run.IsRunning;

    /// <inheritdoc/>
    public IReadOnlyList<string> EventNames => _run.Store.ReadEvents().Select(e => e.Name).ToList();

    /// <inheritdoc/>
    public void Enable()
    {
        _run.Start();
        _baseNs = _xen.NowNs;
        _clock.Restart();
    }

    /// <inheritdoc/>
    public void Disable()
    {
        Drain();
        _run.Stop();
    }

    /// <inheritdoc/>
    public void Wait(TimeSpan timeout) => Thread.Sleep(timeout);

    /// <inheritdoc/>
    public int Drain() => _run.IsRunning ? (int)_run.PumpTo(_baseNs + (long)_clock.Elapsed.TotalNanoseconds) : 0;

    /// <inheritdoc/>
    public void Dump()
    {
        Drain();
        _run.Store.Commit();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try { if (_run.IsRunning) Disable(); _run.Dispose(); }
        finally { _xen.Dispose(); }
    }
}
