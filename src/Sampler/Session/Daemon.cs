using System.Diagnostics;
using System.Globalization;

namespace XenProf.Sampler.Session;

/// <summary>
/// The profiler daemon of an opcontrol session: owns a <see cref="LiveProfiler"/> (system-wide), drains
/// its rings every <see cref="DrainInterval"/> while profiling, commits the store every second, and obeys
/// the control socket: <c>start</c>, <c>stop</c>, <c>dump</c>, <c>status</c>, <c>reset</c>, <c>save NAME</c>, <c>shutdown</c>.
/// Lifecycle: started (events open, not counting) → start ⇄ stop → shutdown.
/// When the session's file system fills up, profiling stops and the daemon keeps serving: <c>dump</c>, <c>start</c>,
/// <c>reset</c> and <c>save</c> answer with the one-line "no space left on DIR" error, <c>status</c> shows it, and the
/// store keeps everything committed before.
/// </summary>
public sealed class Daemon
{
    /// <summary>How often the rings are drained while profiling.</summary>
    public static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a <c>reset</c> or <c>save</c> waits for the samples so far to reach the fleet database before it refuses (sampling waits meanwhile: what the rings cannot hold is counted lost).</summary>
    public static readonly TimeSpan ResetFlushTimeout = TimeSpan.FromSeconds(20); // well inside the control client's 60 s

    private readonly SessionDirectory _dir;
    private readonly IDaemonProfiler _profiler;
    private readonly object _lock = new();
    private readonly DateTime _started = DateTime.UtcNow;
    private readonly IDaemonStream? _stream;
    private Store.StoreException? _full;

    private Daemon(SessionDirectory dir, IDaemonProfiler profiler, IDaemonStream? stream) { _dir = dir; _profiler = profiler; _stream = stream; }

    /// <summary>
    /// Runs the daemon in this process until <c>shutdown</c> or <paramref name="ct"/>: opens the events
    /// from the session's configuration, serves the control socket, drains. Returns 0.
    /// Throws what <see cref="LiveProfiler.Open"/> throws before the socket exists.
    /// </summary>
    /// <remarks><paramref name="open"/> makes the profiler from the session's configuration (null: a system-wide
    /// <see cref="LiveProfiler"/>); a Xen session passes its xenoprof profiler here. <paramref name="stream"/>, when
    /// given, is told of every commit (the session streamed to the fleet database) and disposed last, after the final
    /// commit, so that it sends what is left.</remarks>
    public static int Run(SessionDirectory dir, CancellationToken ct, TextWriter log, Func<SessionConfig, IDaemonProfiler>? open = null,
        Func<SessionConfig, IDaemonStream?>? stream = null)
    {
        var config = dir.ReadConfig();
        var profiler = open != null ? open(config) : LiveProfiler.Open(dir, config, ProfilerTarget.SystemWide, append: true, log);
        var daemon = new Daemon(dir, profiler, stream?.Invoke(config));
        File.WriteAllText(dir.PidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var server = new ControlServer(dir.SocketPath, req =>
        {
            var r = daemon.Handle(req);
            Log(log, $"{DateTime.UtcNow:O} {req}: {(r.Ok ? "ok" : "error")} {r.Reply.Split('\n')[0]}");
            return r;
        });
        log.WriteLine($"{DateTime.UtcNow:O} daemon pid {Environment.ProcessId} ready: events {string.Join(",", profiler.EventNames)}, socket {dir.SocketPath}");
        log.Flush();
        var serve = server.ServeAsync(cts.Token);
        var lastCommit = Stopwatch.StartNew();
        while (!serve.IsCompleted && !cts.IsCancellationRequested)
        {
            if (daemon._profiler.IsEnabled) profiler.Wait(DrainInterval); else Thread.Sleep(DrainInterval);
            lock (daemon._lock)
            {
                if (profiler.IsEnabled && daemon._full == null)
                {
                    try
                    {
                        profiler.Drain();
                        if (lastCommit.Elapsed > TimeSpan.FromSeconds(1)) { profiler.Dump(); lastCommit.Restart(); daemon._stream?.Committed(false); }
                    }
                    catch (Store.StoreException e) when (e.IsNoSpace) { daemon.Stop(e, log); }
                }
            }
        }
        cts.Cancel();
        lock (daemon._lock)
            try { profiler.Dispose(); }
            catch (Store.StoreException e) when (e.IsNoSpace) { daemon._full ??= e; }
        daemon._stream?.Committed(true);
        daemon._stream?.Dispose(); // sends what is left before the daemon is seen to end
        try { File.Delete(dir.PidPath); } catch (IOException) { }
        Log(log, $"{DateTime.UtcNow:O} daemon stopped: {profiler.Samples} samples, {profiler.LostSamples} lost"
            + (daemon._full != null ? $"; {daemon._full.Message}" : ""));
        return daemon._full != null ? 1 : 0;
    }

    /// <summary>Writes a line to the daemon's log; a log on a full file system loses the line rather than the daemon.</summary>
    private static void Log(TextWriter log, string line)
    {
        try { log.WriteLine(line); log.Flush(); }
        catch (IOException) { }
    }

    /// <summary>The file system is full: stop counting (what the rings still hold is dropped) and remember why.</summary>
    private void Stop(Store.StoreException e, TextWriter? log)
    {
        _full ??= e;
        if (_profiler.IsEnabled)
            try { _profiler.Disable(); }
            catch (Store.StoreException again) when (again.IsNoSpace) { }
        if (log != null) Log(log, $"{DateTime.UtcNow:O} profiling stopped: {_full.Message}");
    }

    private (bool Ok, string Reply) Handle(string request)
    {
        lock (_lock)
        {
            try { return HandleLocked(request); }
            catch (Store.StoreException e) when (e.IsNoSpace)
            {
                Stop(e, null);
                return (false, $"profiling stopped: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Before the samples are cleared (reset, save): they reach the fleet database first, when the session is streamed
    /// there (the samples after are another session there). Null when sent (or not streamed), else the refusal.
    /// </summary>
    private (bool Ok, string Reply)? Unsent(string what, string option)
    {
        if (_stream == null) return null;
        _profiler.Dump();
        return _stream.Flush(ResetFlushTimeout) ? null : (false, $"samples not {what}: they are not all sent yet ({_stream.Status}); run {option} again");
    }

    private (bool Ok, string Reply) HandleLocked(string request)
    {
        if (_full != null && (request is "start" or "dump" or "reset" || request.StartsWith("save ", StringComparison.Ordinal)))
            return (false, $"profiling stopped: {_full.Message}");
        switch (request)
        {
            case "start":
                if (_profiler.IsEnabled) return (true, "profiling was already running");
                _profiler.Enable();
                return (true, "profiling started");
            case "stop":
                if (!_profiler.IsEnabled) return (true, "profiling was not running");
                _profiler.Disable();
                _stream?.Committed(true);
                return (true, $"profiling stopped: {_profiler.Samples} samples, {_profiler.LostSamples} lost");
            case "dump":
                _profiler.Dump();
                _stream?.Committed(true);
                return (true, $"dumped: {_profiler.Samples} samples, {_profiler.LostSamples} lost");
            case "reset":
                if (Unsent("cleared", "--reset") is { } notReset) return notReset;
                _profiler.Reset();
                return (true, "samples cleared");
            case var save when save.StartsWith("save ", StringComparison.Ordinal):
                try
                {
                    // Streamed: what was dumped and sent is what is saved (a second dump would save samples never sent).
                    if (Unsent("saved", "--save") is { } notSaved) return notSaved;
                    if (_stream == null) _profiler.Dump();
                    return (true, SessionArchive.Save(_dir, _profiler.Store, save[5..]));
                }
                catch (Exception e) when (e is SessionException or Store.StoreException or IOException or UnauthorizedAccessException)
                {
                    return (false, e.Message);
                }
            case "status":
                return (true, string.Join("\n",
                    $"Daemon running: pid {Environment.ProcessId}",
                    $"Profiling: {(_profiler.IsEnabled ? "running" : "paused")}",
                    $"Session-dir: {_dir.Path}",
                    $"Events: {string.Join(", ", _profiler.EventNames)}",
                    $"Samples: {_profiler.Samples}",
                    $"Lost samples: {_profiler.LostSamples}",
                    $"Up since: {_started:O}")
                    + (_stream != null ? $"\nFleet: {_stream.Status}" : "")
                    + (_full != null ? $"\nStopped: {_full.Message}" : ""));
            case "shutdown":
                if (_full != null) return (true, $"daemon shut down: {_profiler.Samples} samples, {_profiler.LostSamples} lost; {_full.Message}");
                if (_profiler.IsEnabled) _profiler.Disable(); else _profiler.Dump();
                return (true, $"daemon shut down: {_profiler.Samples} samples, {_profiler.LostSamples} lost");
            default:
                return (false, $"unknown request '{request}'");
        }
    }
}
