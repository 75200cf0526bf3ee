using System.Diagnostics;
using System.Globalization;
using XenProf.Sampler.Import.NetTrace;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A .nettrace collected here from a real .NET program (the burner: Burner.Hot does three times Burner.Warm's work)
/// through the diagnostics socket, then <c>xenoprof import</c> and <c>opreport -l</c>: the two methods head the
/// report by name with shares near 3:1; <c>opreport -l FILE</c> and <c>flame FILE</c> work on the file directly.
/// </summary>
public sealed class NetTraceEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-nettrace-e2e-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Fact]
    public void ImportedNettrace_OpreportShowsHotMethodsByName()
    {
        var (burner, why) = XenProf.Reporter.Tests.Symbols.DotnetBurner.Program;
        if (burner == null) { output.WriteLine("skipped: " + why); return; }
        var trace = Path.Combine(_dir, "burner.nettrace");
        using (var p = Process.Start(new ProcessStartInfo(burner, "30") { RedirectStandardOutput = true })!)
        {
            try
            {
                using var c = EventPipeCollector.Start(p.Id, trace, TimeSpan.FromSeconds(20));
                Thread.Sleep(2000);
                output.WriteLine($"trace: {c.Stop()} bytes");
            }
            finally { p.Kill(); p.WaitForExit(); }
        }

        var session = Path.Combine(_dir, "session");
        var imp = Cli.Run("import", trace, "--session-dir", session);
        Assert.True(imp.ExitCode == 0, imp.Stderr);
        Assert.Contains(".nettrace", imp.Stderr);
        var rep = Cli.Run("opreport", "-l", "--session-dir", session);
        Assert.True(rep.ExitCode == 0, rep.Stderr);
        output.WriteLine(rep.Stdout);
        CheckTopTwo(rep.Stdout);

        // Straight on the file: the cached session beside it.
        var direct = Cli.Run("opreport", "-l", trace);
        Assert.True(direct.ExitCode == 0, direct.Stderr);
        CheckTopTwo(direct.Stdout);
        var folded = Path.Combine(_dir, "burner.folded");
        // The managed-code event: folded alone would take the first event sampled, which may be the external one.
        var flame = Cli.Run("flame", trace, "-o", folded, "--weight", "samples", "--event", "THREAD_SAMPLE_MANAGED");
        Assert.True(flame.ExitCode == 0, flame.Stderr);
        // Folded by stackcollapse-perf.pl's tidy rules: argument lists dropped.
        Assert.Contains(File.ReadLines(folded), l => l.Contains("Burner.Main;Burner.Hot ", StringComparison.Ordinal));
    }

    /// <summary>The first two symbol rows are Burner.Hot and Burner.Warm in image burner, shares of the managed-code
    /// event near 75 % and 25 %.</summary>
    internal static void CheckTopTwo(string report)
    {
        var rows = SymbolRows(report);
        Assert.True(rows.Count >= 2, report);
        Assert.Equal(("burner", "Burner.Hot(int64)"), (rows[0].Image, rows[0].Symbol));
        Assert.Equal(("burner", "Burner.Warm(int64)"), (rows[1].Image, rows[1].Symbol));
        Assert.InRange(rows[0].Percent, 60, 85);
        Assert.InRange(rows[1].Percent, 15, 35);
        Assert.InRange(rows[0].Samples / (double)rows[1].Samples, 2.2, 4.0);
    }

    /// <summary>opreport -l rows of a two-event report (managed, external): first event's samples and %, image, symbol.</summary>
    private static List<(long Samples, double Percent, string Image, string Symbol)> SymbolRows(string report)
    {
        var rows = new List<(long, double, string, string)>();
        bool table = false;
        foreach (var line in report.Split('\n'))
        {
            if (line.StartsWith("samples", StringComparison.Ordinal)) { table = true; continue; }
            if (!table || line.Trim().Length == 0) continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            rows.Add((long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture), f[6], string.Join(' ', f.Skip(7))));
        }
        return rows;
    }
}
