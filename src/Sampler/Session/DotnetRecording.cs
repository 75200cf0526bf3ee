using XenProf.Sampler.Import.NetTrace;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Session;

/// <summary>
/// The EventPipe half of <c>record --dotnet</c>: connects to the child's runtime in the background (the rings keep
/// draining meanwhile), writes <c>dotnet.nettrace</c> into the session, and after the run imports it into the
/// session's store beside the perf_event samples.
/// </summary>
internal sealed class DotnetRecording
{
    /// <summary>What the child's environment gets: the JIT perf map and jitdump on, W^X off so JIT code is anonymous
    /// memory, and stubs reported one by one (stub granularity bit 1): with the default, .NET 10.0 up to at least
    /// 10.0.12 stops writing <c>jit-PID.dump</c> after two records (dotnet/runtime#132935).</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["DOTNET_PerfMapEnabled"] = "1",
        ["DOTNET_EnableWriteXorExecute"] = "0",
        ["DOTNET_PerfMapStubGranularity"] = "2",
    };

    private readonly Task<EventPipeCollector> _connect;
    private string? _warning;

    private DotnetRecording(Task<EventPipeCollector> connect) => _connect = connect;

    /// <summary>The trace file inside <paramref name="dir"/>.</summary>
    public static string TracePath(SessionDirectory dir) => Path.Combine(dir.Path, "dotnet.nettrace");

    public static DotnetRecording Start(SessionDirectory dir, int pid, TimeSpan timeout, CancellationToken ct) =>
        new(Task.Run(() => EventPipeCollector.Start(pid, TracePath(dir), timeout, ct), ct));

    /// <summary>Ends the EventPipe session (or gives up connecting) once the command is done.</summary>
    public void Stop()
    {
        try
        {
            _connect.Wait();
            _connect.Result.Dispose();
        }
        catch (AggregateException e)
        {
            _warning = "no EventPipe trace: " + (e.InnerException?.Message ?? e.Message);
        }
    }

    /// <summary>Imports the trace into the session's store; returns the managed samples added and a warning, if any.</summary>
    public (long Samples, string? Warning) ImportInto(SessionDirectory dir, CancellationToken ct)
    {
        var trace = TracePath(dir);
        if (_warning != null || !File.Exists(trace)) return (0, _warning ?? "no EventPipe trace was written");
        using var store = SessionStore.OpenForAppend(dir.StorePath);
        var importer = new NetTraceImporter(store);
        try { importer.Import(trace, Path.Combine(dir.Path, "dotnet.etlx"), null, ct); }
        catch (Hypervisor.Binary.MalformedDataException e) { return (0, e.Message); }
        store.SetMeta("nettrace_path", trace);
        if (importer.EventsLost > 0) store.AddCounter("nettrace_events_lost", importer.EventsLost);
        return (importer.Samples, importer.Samples == 0 ? "the EventPipe trace has no samples (did the program exit before the session started?)" : null);
    }
}
