using System.Diagnostics;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// The .NET burner workload (tests/Sampler.Tests/Data/nettrace/burner, described in SOURCES.md there: Burner.Hot and
/// Burner.Warm run the same loop), built once per test run into a temporary folder outside the repository's
/// Directory.Build.props with <c>dotnet build -c Release -o out</c>. Shared with XenOprof.Tests (linked there).
/// </summary>
internal static class DotnetBurner
{
    private static readonly Lazy<(string? Path, string Why)> Built = new(Build);

    /// <summary>The built program (an apphost), or null with the reason it could not be built.</summary>
    public static (string? Path, string Why) Program => Built.Value;

    private static (string?, string) Build()
    {
        string? src = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) { src = Path.Combine(d.FullName, "tests", "Sampler.Tests", "Data", "nettrace", "burner"); break; }
        if (src == null || !Directory.Exists(src)) return (null, "the burner source (tests/Sampler.Tests/Data/nettrace/burner) is not beside this build");
        var work = Directory.CreateTempSubdirectory("xenprof-burner-").FullName;
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(work, Path.GetFileName(f)));
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "build", "-c", "Release", "-o", "out", "-nologo" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var exe = Path.Combine(work, "out", "burner");
        return p.ExitCode == 0 && File.Exists(exe) ? (exe, "") : (null, $"dotnet build of the burner failed: {o}{err.Result}");
    }
}
