using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// The external readers the export tests run: node with the npm packages in <c>tests/Reporter.Tests/tools</c>
/// (speedscope's schema, pprof-format, ajv; <c>npm ci</c> there installs them), Go's <c>go tool pprof</c>, and chromium
/// driven by <c>tools/flame-harness.html</c>. XenOprof.Tests compiles this file too (linked), so both projects drive
/// the same tools the same way.
/// </summary>
internal static class ExternalTools
{
    /// <summary><c>tests/Reporter.Tests/tools</c>, found by walking up from the test binaries, or null.</summary>
    public static readonly string? ToolsDir = FindToolsDir();

    /// <summary>The tools folder with an installed node_modules, or null.</summary>
    public static readonly string? NodeTools =
        ToolsDir != null && Directory.Exists(Path.Combine(ToolsDir, "node_modules", "pprof-format")) ? ToolsDir : null;

    public static readonly string? Node = FindOnPath("node");

    public static readonly string? Go = FindOnPath("go");

    public static readonly string? Chromium = FindOnPath("chromium") ?? FindOnPath("chromium-browser");

    public static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static string? FindToolsDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string tools = Path.Combine(d.FullName, "tests", "Reporter.Tests", "tools");
            if (File.Exists(Path.Combine(tools, "package.json"))) return tools;
        }
        return null;
    }

    /// <summary>Runs <paramref name="file"/> with arguments; returns (exit code, stdout, stderr). Fails the test after 120 s.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? workingDir = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDir != null) psi.WorkingDirectory = workingDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within 120 s");
        }
        return (p.ExitCode, stdout, err.Result);
    }

    /// <summary>Runs a node script from the tools folder with arguments; fails the test on a non-zero exit.</summary>
    public static string RunNode(string script, params string[] args)
    {
        var (code, stdout, stderr) = Run(Node!, [Path.Combine(NodeTools!, script), .. args], NodeTools);
        Assert.True(code == 0, $"node {script} exited {code}:\n{stderr}\n{stdout}");
        return stdout;
    }

    /// <summary>Runs chromium headless with the flags that keep it offline and stateless, and a fresh profile under <paramref name="dir"/>.</summary>
    public static string RunChromium(string dir, params string[] args) => RunChromiumWithLog(dir, args).Stdout;

    private static (string Stdout, string Stderr) RunChromiumWithLog(string dir, params string[] args)
    {
        string[] common =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + Path.Combine(dir, "chromium-profile-" + Guid.NewGuid().ToString("N")),
        ];
        var (_, stdout, stderr) = Run(Chromium!, [.. common, .. args], dir);
        return (stdout, stderr);
    }

    /// <summary>
    /// Loads <paramref name="file"/> (an SVG flame graph or HTML report in <paramref name="dir"/>) in chromium through
    /// <c>tools/flame-harness.html</c>, searches it for <paramref name="search"/> (a JavaScript regular expression),
    /// and returns the harness's JSON result (frames, match, matchedText, highlighted, tables, timelines). Fails the
    /// test when the page or the harness reported an error or chromium logged an uncaught script error.
    /// </summary>
    public static JsonElement RunFlameHarness(string dir, string file, string search)
    {
        Assert.True(ToolsDir != null, "tests/Reporter.Tests/tools not found above " + AppContext.BaseDirectory);
        // Beside the target, so the harness reads the frame's document as a same-directory file.
        string harness = Path.Combine(dir, "flame-harness.html");
        File.Copy(Path.Combine(ToolsDir, "flame-harness.html"), harness, overwrite: true);
        string url = new Uri(harness).AbsoluteUri + "?target=" + Uri.EscapeDataString(file) + "&search=" + Uri.EscapeDataString(search);
        var (dom, log) = RunChromiumWithLog(dir, "--allow-file-access-from-files", "--virtual-time-budget=5000", "--enable-logging=stderr", "--dump-dom", url);
        var m = Regex.Match(dom, "RESULT (\\{.*\\}) END");
        Assert.True(m.Success, file + ": no result in the dumped DOM:\n" + dom[..Math.Min(dom.Length, 2000)] + "\n" + log[..Math.Min(log.Length, 2000)]);
        var r = JsonDocument.Parse(m.Groups[1].Value).RootElement.Clone();
        Assert.True(r.GetProperty("errors").GetArrayLength() == 0, file + ": " + r.GetProperty("errors"));
        var uncaught = log.Split('\n').Where(l => l.Contains("CONSOLE", StringComparison.Ordinal) && l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
        Assert.True(uncaught.Count == 0, file + ": script errors:\n" + string.Join('\n', uncaught));
        Assert.True(r.GetProperty("hasApi").GetBoolean(), file + ": the flame graph script did not run");
        return r;
    }

    /// <summary>A JavaScript regular expression matching exactly <paramref name="name"/>.</summary>
    public static string ExactPattern(string name) => "^" + Regex.Replace(name, @"[.*+?^${}()|[\]\\/]", @"\$&") + "$";

    /// <summary>Saves chromium's screenshot of <paramref name="file"/> (in <paramref name="dir"/>) as <paramref name="png"/>; fails the test when none is written.</summary>
    public static void Screenshot(string dir, string file, string png)
    {
        File.Delete(png);
        RunChromium(dir, $"--screenshot={png}", "--window-size=1300,1400", new Uri(Path.Combine(dir, file)).AbsoluteUri);
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 10_000, file + ": no screenshot");
    }

    /// <summary>
    /// Where tests leave artifacts (screenshots, sample outputs): <c>TestResults/exports[/sub]</c> under the test
    /// project running (the nearest folder above the binaries holding a <c>*.Tests.csproj</c>).
    /// </summary>
    public static string ArtifactDir(string? sub = null)
    {
        string exports = Path.Combine("TestResults", "exports");
        if (sub != null) exports = Path.Combine(exports, sub);
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (d.EnumerateFiles("*.Tests.csproj").Any())
                return Directory.CreateDirectory(Path.Combine(d.FullName, exports)).FullName;
        }
        return Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, exports)).FullName;
    }
}

/// <summary>A fact skipped (with the reason printed) when node or the npm validators are not installed.</summary>
public sealed class NodeToolsFactAttribute : FactAttribute
{
    public NodeToolsFactAttribute()
    {
        if (ExternalTools.Node is null) Skip = "node is not installed (apt-get install nodejs npm)";
        else if (ExternalTools.NodeTools is null) Skip = "npm validators are not installed (npm ci in tests/Reporter.Tests/tools)";
    }
}

/// <summary>A fact skipped when Go (golang-go, for go tool pprof) is not installed.</summary>
public sealed class GoFactAttribute : FactAttribute
{
    public GoFactAttribute()
    {
        if (ExternalTools.Go is null) Skip = "go is not installed (apt-get install golang-go)";
    }
}

/// <summary>A fact skipped when chromium is not installed.</summary>
public sealed class ChromiumExportFactAttribute : FactAttribute
{
    public ChromiumExportFactAttribute()
    {
        if (ExternalTools.Chromium is null) Skip = "chromium is not installed (apt-get install chromium)";
    }
}
