namespace XenProf.Sampler.Session;

/// <summary>Outcome of <see cref="Recorder.Run"/>: the command's exit code and what was collected.</summary>
public sealed record RecordResult(int ExitCode, long Samples, long LostSamples, string StorePath)
{
    /// <summary>With <see cref="RecordOptions.Dotnet"/>: EventPipe samples added beside the perf_event ones (0 otherwise).</summary>
    public long ManagedSamples { get; init; }
    /// <summary>With <see cref="RecordOptions.Dotnet"/>: why no managed samples were added, or null.</summary>
    public string? DotnetWarning { get; init; }
}

/// <summary>Options of <see cref="Recorder.Run"/> beyond the session's configuration.</summary>
public sealed record RecordOptions
{
    /// <summary>
    /// The command is a .NET program: it runs with its JIT perf map on (<c>DOTNET_PerfMapEnabled=1</c>, and W^X off so
    /// JIT code is anonymous memory perf's map naming applies to; docs/dependencies.md, TraceEvent), and an EventPipe session
    /// (<see cref="Import.NetTrace.EventPipeCollector"/>) records its managed stacks into <c>dotnet.nettrace</c> in the
    /// session, imported into the store at the end as events THREAD_SAMPLE_MANAGED/EXTERNAL with method names.
    /// </summary>
    public bool Dotnet { get; init; }
    /// <summary>Where one-line notes go (e.g. that the previous run's samples moved to <c>session:previous</c>); null = nowhere.</summary>
    public TextWriter? Log { get; init; }
    /// <summary>How long to wait for the .NET runtime's diagnostics socket.</summary>
    public TimeSpan DotnetConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One-shot profiling of a command, like operf: the command is started stopped before exec, events are
/// opened on it (per CPU, inherited by its children, enabled at exec) or on every CPU with
/// <c>SystemWide</c>, it runs to completion while the rings are drained, then the store is closed.
/// </summary>
public static class Recorder
{
    /// <summary>
    /// Runs <paramref name="command"/> with <paramref name="args"/> under the profiler. Cancelling
    /// <paramref name="ct"/> (Ctrl-C) stops the command and keeps what was sampled.
    /// <paramref name="progress"/> is called after each drain with (samples so far, lost so far).
    /// Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> when the command does not exist, plus what
    /// <see cref="LiveProfiler.Open"/> throws.
    /// </summary>
    public static RecordResult Run(SessionDirectory dir, SessionConfig config, string command, IReadOnlyList<string> args, CancellationToken ct,
        Action<long, long>? progress = null, RecordOptions? options = null)
    {
        options ??= new RecordOptions();
        dir.EnsureWritable();
        var env = options.Dotnet ? DotnetRecording.Environment : null;
        using var child = XenProf.Hypervisor.PerfEvents.StoppedChild.Start(command, args, env);
        DotnetRecording? dotnet = null;
        var target = config.SystemWide ? ProfilerTarget.SystemWide with { JitMaps = options.Dotnet } : new ProfilerTarget { Pid = child.Pid, EnableOnExec = true, JitMaps = options.Dotnet };
        var profiler = LiveProfiler.Open(dir, config, target, append: false, options.Log);
        dir.WriteConfig(config); // after Open moved the previous run away: reports take their defaults (--separate) from it
        try
        {
            if (config.SystemWide) profiler.Enable(); else profiler.MarkEnabledOnExec();
            child.Continue();
            if (options.Dotnet) dotnet = DotnetRecording.Start(dir, child.Pid, options.DotnetConnectTimeout, ct);
            // Committed every second, as the daemon does: a crash or a full file system keeps all but the last second.
            var lastCommit = System.Diagnostics.Stopwatch.StartNew();
            while (!child.HasExited)
            {
                if (ct.IsCancellationRequested) { child.Dispose(); break; }
                profiler.Wait(TimeSpan.FromMilliseconds(100));
                profiler.Drain();
                if (lastCommit.Elapsed > TimeSpan.FromSeconds(1)) { profiler.Dump(); lastCommit.Restart(); }
                progress?.Invoke(profiler.Samples, profiler.LostSamples);
            }
            child.WaitForExit(TimeSpan.FromSeconds(5));
        }
        finally
        {
            dotnet?.Stop();
            profiler.Dispose();
        }
        var result = new RecordResult(child.HasExited ? child.ExitCode : 130, profiler.Samples, profiler.LostSamples, dir.StorePath);
        if (dotnet == null) return result;
        var (managed, warning) = dotnet.ImportInto(dir, ct);
        return result with { ManagedSamples = managed, DotnetWarning = warning };
    }
}
