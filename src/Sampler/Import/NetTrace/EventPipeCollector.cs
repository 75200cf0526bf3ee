using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace XenProf.Sampler.Import.NetTrace;

/// <summary>
/// Collects a <c>.nettrace</c> from a running .NET process through its diagnostics IPC socket (Microsoft.Diagnostics
/// .NETCore.Client): the sample profiler plus the runtime's JIT, loader and stack events and a rundown at the end, so
/// every sampled method has a name (docs/dependencies.md, TraceEvent; the GC keywords of the default set add four events per sample).
/// <see cref="Start"/> waits until the runtime has opened its socket; <see cref="Stop"/> ends the session and returns
/// when the file is complete. A process that exits ends the session by itself.
/// </summary>
public sealed class EventPipeCollector : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly Task _copy;
    private readonly FileStream _file;
    private bool _stopped;

    private EventPipeCollector(EventPipeSession session, FileStream file)
    {
        _session = session;
        _file = file;
        _copy = Task.Run(() => session.EventStream.CopyToAsync(file));
    }

    /// <summary>The providers a profile needs: SampleProfiler, and the runtime's Jit|Loader|Stack at Informational.</summary>
    public static IReadOnlyList<EventPipeProvider> Providers { get; } =
    [
        new("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
        new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational,
            (long)(ClrTraceEventParser.Keywords.Jit | ClrTraceEventParser.Keywords.Loader | ClrTraceEventParser.Keywords.Stack)),
    ];

    /// <summary>Where the trace is written.</summary>
    public required string OutputPath { get; init; }

    /// <summary>
    /// Connects to process <paramref name="pid"/> (polling until its runtime listens, at most <paramref name="connectTimeout"/>)
    /// and starts writing its trace to <paramref name="outputPath"/>.
    /// </summary>
    /// <exception cref="TimeoutException">No .NET runtime answered in time (not a .NET program, or diagnostics disabled).</exception>
    public static EventPipeCollector Start(int pid, string outputPath, TimeSpan connectTimeout, CancellationToken ct = default)
    {
        var client = new DiagnosticsClient(pid);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                client.GetProcessEnvironment();
                break;
            }
            catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or IOException or TimeoutException or UnauthorizedAccessException)
            {
                if (sw.Elapsed > connectTimeout || HasExited(pid))
                    throw new TimeoutException($"process {pid}: no .NET diagnostics socket after {sw.Elapsed.TotalSeconds:0.0} s (not a .NET program, exited, or DOTNET_EnableDiagnostics=0): {e.Message}");
                Thread.Sleep(20);
            }
        }
        var session = client.StartEventPipeSession(Providers, requestRundown: true, circularBufferMB: 256);
        var file = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return new EventPipeCollector(session, file) { OutputPath = outputPath };
    }

    private static bool HasExited(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return p.HasExited; }
        catch (ArgumentException) { return true; }
    }

    /// <summary>
    /// Ends the session (the runtime then writes its rundown) and waits until the file is complete, at most
    /// <paramref name="timeout"/>. Returns the trace's size in bytes. Safe after the process exited.
    /// </summary>
    public long Stop(TimeSpan? timeout = null)
    {
        if (!_stopped)
        {
            _stopped = true;
            try { _session.Stop(); }
            catch (Exception e) when (e is ServerNotAvailableException or IOException or TimeoutException or ObjectDisposedException) { /* process gone: the stream has ended */ }
            try { _copy.Wait(timeout ?? TimeSpan.FromSeconds(30)); }
            catch (AggregateException) { /* a stream cut by the process's exit: keep what arrived */ }
            _file.Flush();
        }
        return _file.Length;
    }

    /// <summary>Stops (if not yet) and closes the file.</summary>
    public void Dispose()
    {
        Stop();
        _session.Dispose();
        _file.Dispose();
    }
}
