using System.Diagnostics;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Internal;

namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// Starts a command stopped just before it execs, so events can be opened on its pid (inherit + enable_on_exec)
/// before it runs any of its own code: <c>/bin/sh -c 'kill -STOP $$; exec "$0" "$@"' FILE ARGS…</c>. After
/// <see cref="Start"/> returns, the shell (pid <see cref="Pid"/>) is stopped (/proc/PID/stat state T);
/// <see cref="Continue"/> sends SIGCONT and the shell execs the command in the same pid. stdin/stdout/stderr
/// are inherited. Disposing kills the child if it is still running.
/// </summary>
public sealed class StoppedChild : IDisposable
{
    private const string Trampoline = "kill -STOP $$; exec \"$0\" \"$@\"";
    private readonly Process _process;

    private StoppedChild(Process process, string resolvedPath) { _process = process; ResolvedPath = resolvedPath; }

    /// <summary>Process id (the same before and after exec).</summary>
    public int Pid => _process.Id;
    /// <summary>The executable that will run, after PATH resolution.</summary>
    public string ResolvedPath { get; }
    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;
    /// <summary>Exit code (128 + signal when killed by a signal); valid after <see cref="WaitForExit()"/>.</summary>
    /// <exception cref="InvalidOperationException">The process has not exited.</exception>
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Resolves <paramref name="file"/> (a path, or a name searched in PATH), starts the trampoline and waits
    /// (up to 10 s) until the shell has stopped itself.
    /// </summary>
    /// <param name="file">Command name or path.</param>
    /// <param name="args">Arguments, passed verbatim (no shell interpretation).</param>
    /// <param name="environment">Variables to set in the child's environment (on top of ours), or null.</param>
    /// <exception cref="XenProfUserException">The command is not found in PATH, or the path does not exist or is not executable.</exception>
    /// <exception cref="TimeoutException">The child did not stop in time (it is killed).</exception>
    public static StoppedChild Start(string file, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        string resolved = Resolve(file);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        if (environment != null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Trampoline);
        psi.ArgumentList.Add(resolved);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null for /bin/sh");
        var child = new StoppedChild(p, resolved);
        var sw = Stopwatch.StartNew();
        while (ReadState(p.Id) != 'T')
        {
            if (p.HasExited || sw.Elapsed > TimeSpan.FromSeconds(10))
            {
                child.Dispose();
                throw new TimeoutException($"child {p.Id} ({file}) did not stop before exec within 10 s");
            }
            Thread.Sleep(1);
        }
        return child;
    }

    /// <summary>
    /// Finds the executable: a name with '/' is checked as a path; otherwise each PATH directory is searched
    /// (empty PATH entries mean the current directory).
    /// </summary>
    /// <exception cref="XenProfUserException">Not found or not executable, with a message naming what was searched.</exception>
    public static string Resolve(string file)
    {
        if (string.IsNullOrEmpty(file)) throw new XenProfUserException("no command given");
        if (file.Contains('/'))
        {
            if (!File.Exists(file)) throw new XenProfUserException($"command not found: {file} (no such file)");
            if (!IsExecutable(file)) throw new XenProfUserException($"command not executable: {file} (no execute permission)");
            return Path.GetFullPath(file);
        }
        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':'))
        {
            string candidate = Path.Combine(dir.Length == 0 ? "." : dir, file);
            if (File.Exists(candidate) && IsExecutable(candidate)) return Path.GetFullPath(candidate);
        }
        throw new XenProfUserException($"command not found: {file} (searched PATH={path})");
    }

    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows() ||
        (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>State letter from /proc/PID/stat (R, S, T…), or '\0' if the process is gone.</summary>
    public static char ReadState(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '\0';
        }
        catch (IOException) { return '\0'; }
    }

    /// <summary>Sends SIGCONT: the shell execs the command.</summary>
    /// <exception cref="InvalidOperationException">kill(2) failed (the child is gone).</exception>
    public void Continue()
    {
        if (PerfNative.Kill(Pid, PerfNative.SIGCONT) != 0)
            throw new InvalidOperationException($"SIGCONT to {Pid} failed: {PerfNative.ErrnoName(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
    }

    /// <summary>Waits for the process to exit; returns false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Waits for the process to exit.</summary>
    public void WaitForExit() => _process.WaitForExit();

    /// <summary>Kills the child (SIGKILL, after SIGCONT) if still running, and releases the handle.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) { _process.Kill(); PerfNative.Kill(Pid, PerfNative.SIGCONT); _process.WaitForExit(5000); }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
