using System.Diagnostics;

namespace XenProf.Sampler.Session;

/// <summary>
/// Starts and addresses the opcontrol daemon of a session directory. The daemon is a separate process
/// started in its own session (<c>setsid</c>) with stdio on <c>daemon.log</c>, so it survives the shell
/// that started it.
/// </summary>
public static class DaemonLauncher
{
    /// <summary>True when a daemon answers on the session's control socket.</summary>
    public static bool IsRunning(SessionDirectory dir) => ControlClient.TrySend(dir.SocketPath, "status", TimeSpan.FromSeconds(5)) switch
    {
        null => false,
        { Ok: true } => true,
        // The only refusal of "status" is the daemon's peer check: another user's daemon.
        { Reply: var reply } => throw new SessionException($"{dir.SocketPath}: {reply}"),
    };

    /// <summary>
    /// Writes <paramref name="config"/> and starts <paramref name="daemonCommand"/> (program plus arguments
    /// that run <see cref="Daemon.Run"/> on <paramref name="dir"/>) detached, then waits until it answers.
    /// Throws <see cref="SessionException"/> when a daemon already runs on this session, or when the new
    /// one exits or stays silent; the message then carries the daemon's last log line (e.g. an event it could not open).
    /// </summary>
    public static int Start(SessionDirectory dir, SessionConfig config, IReadOnlyList<string> daemonCommand, TimeSpan timeout)
    {
        dir.EnsureWritable();
        if (IsRunning(dir))
            throw new SessionException($"a daemon is already running for session {dir.Path} (pid {ReadPid(dir)}); use --shutdown first, or another --session-dir");
        dir.WriteConfig(config);
        File.WriteAllText(dir.LogPath, "");
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        // setsid: a new session, no controlling terminal; stdio detached onto the log so no pipe of the caller is held open.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid \"$@\" </dev/null >>\"$XENPROF_DAEMON_LOG\" 2>&1 &");
        psi.ArgumentList.Add("sh");
        foreach (var a in daemonCommand) psi.ArgumentList.Add(a);
        psi.Environment["XENPROF_DAEMON_LOG"] = dir.LogPath;
        using (var sh = Process.Start(psi) ?? throw new SessionException("could not start the daemon process"))
            sh.WaitForExit();

        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            Thread.Sleep(100);
            if (IsRunning(dir)) return ReadPid(dir);
            var log = SafeRead(dir.LogPath);
            if (log.Contains("xenoprof daemon:", StringComparison.Ordinal))
                throw new SessionException(LastLine(log));
        }
        throw new SessionException($"the daemon did not answer within {timeout.TotalSeconds:0} s; see {dir.LogPath}: {LastLine(SafeRead(dir.LogPath))}");
    }

    /// <summary>Sends one control request; throws <see cref="SessionException"/> when no daemon runs on the session.</summary>
    public static (bool Ok, string Reply) Send(SessionDirectory dir, string request) =>
        ControlClient.TrySend(dir.SocketPath, request)
        ?? throw new SessionException($"no daemon is running for session {dir.Path}; start one with 'xenoprof opcontrol --start-daemon --session-dir {dir.Path}'");

    /// <summary>Waits up to <paramref name="timeout"/> for the daemon process to exit after a shutdown.</summary>
    public static void WaitForExit(SessionDirectory dir, int pid, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && Directory.Exists($"/proc/{pid}")) Thread.Sleep(50);
    }

    /// <summary>The daemon's pid from <c>daemon.pid</c>, 0 when unknown.</summary>
    public static int ReadPid(SessionDirectory dir) => int.TryParse(SafeRead(dir.PidPath).Trim(), out var p) ? p : 0;

    private static string SafeRead(string path)
    {
        try { return File.ReadAllText(path); } catch (IOException) { return ""; }
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "(empty log)" : lines[^1];
    }
}
