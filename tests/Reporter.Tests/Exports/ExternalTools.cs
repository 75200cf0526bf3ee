using System.Diagnostics;
using Xunit;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// The external readers the export tests run: node with the npm packages in <c>tests/Reporter.Tests/tools</c>
/// (speedscope's schema, pprof-format, ajv; <c>npm ci</c> there installs them), Go's <c>go tool pprof</c>, and chromium.
/// </summary>
internal static class ExternalTools
{
    /// <summary>The tools folder with an installed node_modules, or null.</summary>
    public static readonly string? NodeTools = FindNodeTools();

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

    private static string? FindNodeTools()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string tools = Path.Combine(d.FullName, "tests", "Reporter.Tests", "tools");
            if (File.Exists(Path.Combine(tools, "package.json")))
                return Directory.Exists(Path.Combine(tools, "node_modules", "pprof-format")) ? tools : null;
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
    public static string RunChromium(string dir, params string[] args)
    {
        string[] common =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + Path.Combine(dir, "chromium-profile-" + Guid.NewGuid().ToString("N")),
        ];
        var (_, stdout, _) = Run(Chromium!, [.. common, .. args], dir);
        return stdout;
    }

    /// <summary>Where tests leave artifacts (screenshots, sample outputs): <c>TestResults/exports</c> under the test project.</summary>
    public static string ArtifactDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Reporter.Tests.csproj")))
                return Directory.CreateDirectory(Path.Combine(d.FullName, "TestResults", "exports")).FullName;
        }
        return Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults", "exports")).FullName;
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
