using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// The install path the README shows: <c>dotnet pack</c> makes a .NET tool package, <c>dotnet tool install</c> puts it
/// in a tool path, and the installed <c>xenoprof --version</c> prints the product's version, the one this build of
/// xenoprof carries; the installed tool also reports on a trace.
/// </summary>
public sealed class ToolPackageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string? RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) return d.FullName;
        return null;
    }

    private (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10))) { p.Kill(true); Assert.Fail($"{file} {string.Join(' ', args)} did not finish in 10 minutes"); }
        return (p.ExitCode, o, err.Result);
    }

    [Fact]
    public void PackedTool_InstallsAndPrintsItsVersion()
    {
        var root = RepoRoot();
        if (root == null) { output.WriteLine("SKIPPED: not run from the repository (XenProf.sln not found above the test)"); return; }
        var nupkg = Path.Combine(_dir, "nupkg");
        // Own artifacts path: the developer's bin/ and obj/ are left alone.
        var pack = Run("dotnet", "pack", Path.Combine(root, "src", "XenOprof", "XenOprof.csproj"), "-c", "Release", "-o", nupkg,
            "--artifacts-path", Path.Combine(_dir, "artifacts"), "-nologo", "-v", "q");
        Assert.True(pack.Code == 0, $"dotnet pack failed:\n{pack.Out}\n{pack.Err}");
        var package = Assert.Single(Directory.GetFiles(nupkg, "xenoprof.*.nupkg"));
        output.WriteLine(Path.GetFileName(package));

        var tools = Path.Combine(_dir, "tools");
        var install = Run("dotnet", "tool", "install", "xenoprof", "--tool-path", tools, "--add-source", nupkg, "--ignore-failed-sources");
        Assert.True(install.Code == 0, $"dotnet tool install failed:\n{install.Out}\n{install.Err}");
        var exe = Path.Combine(tools, "xenoprof");
        Assert.True(File.Exists(exe), $"no {exe} after install:\n{install.Out}");

        var version = Run(exe, "--version");
        Assert.True(version.Code == 0, version.Err);
        // The informational version: the package version, plus "+COMMIT" when built from a git checkout.
        var expected = typeof(global::XenProf.Cli.Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected.Split('+')[0], version.Out.Trim().Split('+')[0]);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Out.Trim());
        Assert.Contains(version.Out.Trim().Split('+')[0], Path.GetFileName(package));

        // The installed tool works on a trace: a .nettrace of the tests' .NET burner.
        var nettrace = Path.Combine(root, "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace");
        var imported = Run(exe, "import", nettrace, "--session-dir", Path.Combine(_dir, "s"));
        Assert.True(imported.Code == 0, imported.Err);
        var report = Run(exe, "opreport", "-l", "--session-dir", Path.Combine(_dir, "s"));
        Assert.True(report.Code == 0, report.Err);
        Assert.Contains("Burner.Hot(int64)", report.Out);
    }
}
