using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A live record of the built-in workload, then <c>flame</c> in every format with the extension inference and
/// the filters; speedscope and pprof files also go through the npm validators when they are installed
/// (tests/Reporter.Tests/tools), and pprof through go tool pprof when Go is installed.
/// </summary>
public sealed class FlameExportTests(ITestOutputHelper output)
{
    [RootFact]
    public void LiveSession_ExportsEveryFormat()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--session-dir", dir, "-g");
            Assert.Equal(0, rec.ExitCode);
            string P(string name) => Path.Combine(dir, name);
            long total = ExportChecks.ExportAndCheck(dir, dir, "live", output);
            Assert.Contains("hot_sixty", File.ReadAllText(P("report.html")));

            // Filters: the workload's pid only, and a time window, with --format overriding the extension.
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.trace.json"))))
            {
                var x = doc.RootElement.GetProperty("traceEvents").EnumerateArray().First(e => e.GetProperty("ph").GetString() == "X");
                int workload = (int)x.GetProperty("pid").GetInt64();
                var r = Cli.Run("flame", "--session-dir", dir, "--pid", workload.ToString(), "--from", "0", "--to", "0.5", "--format", "folded", "--weight", "samples", "--output", P("window.txt"));
                Assert.Equal(0, r.ExitCode);
                long windowed = File.ReadAllLines(P("window.txt")).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
                Assert.InRange(windowed, 1, total - 1);
            }
            var bad = Cli.Run("flame", "--session-dir", dir, "--output", P("x.unknown"));
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("--format", bad.Stderr);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [Fact]
    public void BadFlags_AreOneLineUserErrors()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var missing = Cli.Run("flame", "--session-dir", Path.Combine(dir, "none"), "--output", Path.Combine(dir, "x.svg"));
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("no session directory", missing.Stderr);
            var format = Cli.Run("flame", "--session-dir", dir, "--format", "gif", "--output", Path.Combine(dir, "x.gif"));
            Assert.Equal(1, format.ExitCode);
            Assert.Contains("unknown format 'gif'", format.Stderr);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [VerbFact("demo")]
    public void EmulatedXenSession_ExportsEveryFormat()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            string? repo = null;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null && repo == null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) repo = d.FullName;
            Assert.NotNull(repo);
            var demo = Cli.Run("demo", "--output", dir, "--scenario", Path.Combine(repo, "samples", "scenarios", "xen-summit-2006.json"));
            Assert.True(demo.ExitCode == 0, demo.Stderr);
            foreach (var session in new[] { "active", "passive" })
            {
                long total = ExportChecks.ExportAndCheck(Path.Combine(dir, session), Path.Combine(dir, session + "-exports"), Path.Combine("emulated-xen", session), output);
                output.WriteLine($"{session}: {total} samples exported");
            }
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [VerbFact("import")]
    public void ImportedPerfData_ExportsEveryFormat()
    {
        if (!Environment.IsPrivilegedProcess || ExportChecks.Which("perf") == null || !File.Exists(Cli.Workload))
        {
            output.WriteLine("needs root, perf and the built-in workload to record a perf.data; skipped");
            return;
        }
        var dir = Cli.NewSessionDir();
        try
        {
            Directory.CreateDirectory(dir);
            string data = Path.Combine(dir, "perf.data");
            // -B and a private build-id cache: perf 6.1 here aborts in util/build-id.c when perf runs share ~/.debug.
            var (code, o) = ExportChecks.Run("perf", dir, "--buildid-dir", Path.Combine(dir, "buildid"), "record", "-B", "-q", "-g", "-F", "999", "-o", data, "--", Cli.Workload);
            Assert.True(code == 0, o);
            var imp = Cli.Run("import", data, "--session-dir", Path.Combine(dir, "session"));
            Assert.True(imp.ExitCode == 0, imp.Stderr);
            long total = ExportChecks.ExportAndCheck(Path.Combine(dir, "session"), Path.Combine(dir, "exports"), "imported-perf-data", output);
            Assert.True(total > 100);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
