using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// Writes every <c>flame</c> format of one session through the CLI and checks each with the reader that defines it,
/// where installed: speedscope's schema and pprof-format (npm, tests/Reporter.Tests/tools), a Trace Event Format
/// schema (ajv), go tool pprof. Totals must agree with the folded stacks. Absent validators are reported, not failed.
/// </summary>
internal static class ExportChecks
{
    public static readonly string[] Outputs =
        ["flame.folded", "flame.svg", "report.html", "profile.speedscope.json", "profile.trace.json", "profile.pb.gz", "top.png"];

    /// <summary>Exports <paramref name="session"/> into <paramref name="outDir"/>; returns the folded total (samples of the first event).</summary>
    public static long ExportAndCheck(string session, string outDir, ITestOutputHelper log)
    {
        Directory.CreateDirectory(outDir);
        string P(string name) => Path.Combine(outDir, name);
        foreach (var name in Outputs)
        {
            var r = Cli.Run("flame", "--session-dir", session, "--output", P(name));
            Assert.True(r.ExitCode == 0, $"flame {name}: {r.Stderr}");
            Assert.True(new FileInfo(P(name)).Length > 100, name);
        }
        Assert.True(File.Exists(P("top.timeline.png")));
        long total = File.ReadAllLines(P("flame.folded")).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
        Assert.True(total > 0);

        using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.speedscope.json"))))
        {
            Assert.Equal("https://www.speedscope.app/file-format-schema.json", doc.RootElement.GetProperty("$schema").GetString());
            Assert.Equal(total, doc.RootElement.GetProperty("profiles").EnumerateArray().Sum(p => p.GetProperty("samples").GetArrayLength()));
        }
        using (var gz = new GZipStream(File.OpenRead(P("profile.pb.gz")), CompressionMode.Decompress))
            Assert.True(gz.ReadByte() >= 0);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(P("report.html")));

        string? tools = NodeTools();
        if (tools == null) log.WriteLine("npm validators not installed (npm ci in tests/Reporter.Tests/tools): speedscope/pprof/trace schema checks skipped");
        else
        {
            var ss = Node(tools, "check-speedscope.js", P("profile.speedscope.json"));
            Assert.True(ss.GetProperty("valid").GetBoolean(), ss.GetProperty("errors").ToString());
            var pp = Node(tools, "check-pprof.js", P("profile.pb.gz"));
            Assert.False(pp.GetProperty("dangling").GetBoolean());
            long pprofSamples = pp.GetProperty("totals")[0].GetInt64();
            using var trace = JsonDocument.Parse(File.ReadAllBytes(P("profile.trace.json")));
            long traceEvents = trace.RootElement.GetProperty("traceEvents").EnumerateArray().Count(e => e.GetProperty("ph").GetString() == "X");
            Assert.Equal(pprofSamples, traceEvents); // both carry every event's samples
            var schema = Path.Combine(tools, "..", "Data", "chrome", "trace-event-format.schema.json");
            var tr = Node(tools, "check-schema.js", schema, P("profile.trace.json"));
            Assert.True(tr.GetProperty("valid").GetBoolean(), tr.GetProperty("errors").ToString());
        }

        if (Which("go") is { } go)
        {
            var (code, o) = Run(go, null, "tool", "pprof", "-top", P("profile.pb.gz"));
            Assert.True(code == 0, o);
            Assert.Contains("Showing nodes accounting for", o);
        }
        else log.WriteLine("go not installed (apt-get install golang-go): go tool pprof check skipped");
        return total;
    }

    public static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public static string? NodeTools()
    {
        if (Which("node") == null) return null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string tools = Path.Combine(d.FullName, "tests", "Reporter.Tests", "tools");
            if (File.Exists(Path.Combine(tools, "package.json")))
                return Directory.Exists(Path.Combine(tools, "node_modules", "pprof-format")) ? tools : null;
        }
        return null;
    }

    private static JsonElement Node(string tools, string script, params string[] args)
    {
        var (code, o) = Run("node", tools, [Path.Combine(tools, script), .. args]);
        Assert.True(code == 0, $"node {script}: {o}");
        return JsonDocument.Parse(o).RootElement.Clone();
    }

    public static (int Code, string Output) Run(string file, string? workingDir, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDir != null) psi.WorkingDirectory = workingDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail($"{file} did not finish within 120 s"); }
        return (p.ExitCode, p.ExitCode == 0 ? o : o + err.Result);
    }
}

/// <summary>A fact skipped when this build's xenoprof has no verb <c>name</c> (a verb another branch adds).</summary>
public sealed class VerbFactAttribute : FactAttribute
{
    private static readonly Lazy<string> Help = new(() => Cli.Run("--help").Stdout);

    public VerbFactAttribute(string verb)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(Help.Value, $@"^\s+{verb}\b", System.Text.RegularExpressions.RegexOptions.Multiline))
            Skip = $"this xenoprof has no '{verb}' verb yet";
    }
}
