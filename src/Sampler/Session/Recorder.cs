namespace XenProf.Sampler.Session;

/// <summary>Outcome of <see cref="Recorder.Run"/>: the command's exit code and what was collected.</summary>
public sealed record RecordResult(int ExitCode, long Samples, long LostSamples, string StorePath);

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
    /// Throws <see cref="FileNotFoundException"/> when the command does not exist, plus what
    /// <see cref="LiveProfiler.Open"/> throws.
    /// </summary>
    public static RecordResult Run(SessionDirectory dir, SessionConfig config, string command, IReadOnlyList<string> args, CancellationToken ct,
        Action<long, long>? progress = null)
    {
        dir.EnsureWritable();
        using var child = XenProf.Hypervisor.PerfEvents.StoppedChild.Start(command, args);
        var target = config.SystemWide ? ProfilerTarget.SystemWide : new ProfilerTarget { Pid = child.Pid, EnableOnExec = true };
        var profiler = LiveProfiler.Open(dir, config, target);
        try
        {
            if (config.SystemWide) profiler.Enable(); else profiler.MarkEnabledOnExec();
            child.Continue();
            while (!child.HasExited)
            {
                if (ct.IsCancellationRequested) { child.Dispose(); break; }
                profiler.Wait(TimeSpan.FromMilliseconds(100));
                profiler.Drain();
                progress?.Invoke(profiler.Samples, profiler.LostSamples);
            }
            child.WaitForExit(TimeSpan.FromSeconds(5));
        }
        finally
        {
            profiler.Dispose();
        }
        return new RecordResult(child.HasExited ? child.ExitCode : 130, profiler.Samples, profiler.LostSamples, dir.StorePath);
    }
}
