using System.Diagnostics;
using System.Text;
using Xunit;

namespace XenProf.XenOprof.Tests;

/// <summary>Runs the built xenoprof (from this test's output folder) as a separate process.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static string BinDir => AppContext.BaseDirectory;

    public static string Workload => Path.Combine(BinDir, "hotloop");

    public static Result Run(params string[] args) => RunAs(null, args);

    /// <summary>Runs xenoprof, optionally through a wrapper (e.g. setpriv) given as the first arguments.</summary>
    public static Result RunAs(string[]? wrapper, params string[] args)
    {
        using var p = Process.Start(StartInfo(wrapper, args))!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(true);
            Assert.Fail($"xenoprof {string.Join(' ', args)} did not finish in 2 minutes");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts xenoprof with stdout and stderr redirected and returns at once (for tests that act on a running verb).</summary>
    public static Process StartRedirected(params string[] args) => Process.Start(StartInfo(null, args))!;

    /// <summary>Starts xenoprof (optionally through a wrapper such as <c>env VAR=VALUE</c>) without waiting; its output is discarded.</summary>
    public static Process Start(string[]? wrapper, params string[] args)
    {
        var psi = StartInfo(wrapper, args);
        psi.RedirectStandardOutput = psi.RedirectStandardError = false;
        psi.StandardOutputEncoding = null;
        psi.RedirectStandardInput = true; // not the test host's stdin
        return Process.Start(psi)!;
    }

    private static ProcessStartInfo StartInfo(string[]? wrapper, string[] args)
    {
        // XENOPROF_CLI runs the suite against another build of the CLI (e.g. the native AOT one) instead of xenoprof.dll.
        string? native = Environment.GetEnvironmentVariable("XENOPROF_CLI") is { Length: > 0 } n ? n : null;
        var psi = new ProcessStartInfo(wrapper?[0] ?? native ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        // perf's build-id cache (~/.debug) fills with whatever perf recorded earlier, e.g. the unstripped workload, whose
        // build-id a stripped copy shares: each run starts from an empty cache unless the test names one.
        if (Environment.GetEnvironmentVariable("PERF_BUILDID_DIR") == null) psi.Environment["PERF_BUILDID_DIR"] = EmptyBuildIdDir.Value;
        if (wrapper != null) { foreach (var w in wrapper.Skip(1)) psi.ArgumentList.Add(w); psi.ArgumentList.Add(native ?? "dotnet"); }
        if (native == null) psi.ArgumentList.Add(Path.Combine(BinDir, "xenoprof.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    private static readonly Lazy<string> EmptyBuildIdDir = new(() => Directory.CreateTempSubdirectory("xenoprof-test-buildid-").FullName);

    public static string NewSessionDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "xenoprof-test-" + Guid.NewGuid().ToString("N")[..10]);
        return d;
    }

    /// <summary>Parses opreport -l rows: (samples, percent, image, symbol).</summary>
    public static List<(long Samples, double Percent, string Image, string Symbol)> ParseSymbols(string report)
    {
        var rows = new List<(long, double, string, string)>();
        bool inTable = false;
        foreach (var line in report.Split('\n'))
        {
            if (line.StartsWith("samples", StringComparison.Ordinal)) { inTable = true; continue; }
            if (!inTable || line.Trim().Length == 0) continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // samples % ± image symbol...
            rows.Add((long.Parse(f[0]), double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[3], string.Join(' ', f.Skip(4))));
        }
        return rows;
    }
}

/// <summary>A fact that needs root (perf_event system-wide, CI runs as root); elsewhere skipped with the reason.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
            Skip = "needs root for perf_event_open sampling (CI runs as root)";
        else if (!File.Exists(Cli.Workload))
            Skip = $"the built-in workload {Cli.Workload} was not built (gcc missing)";
    }
}
