using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>A real record of the built-in workload, then opreport and flame, as the README's main job does.</summary>
public sealed class RecordTests(ITestOutputHelper output)
{
    [RootFact]
    public void RecordBuiltInWorkload_ReportsConstructedShares_AndWritesFlameGraph()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--session-dir", dir, "-g");
            output.WriteLine(rec.Stderr);
            Assert.Equal(0, rec.ExitCode);
            Assert.Contains("profiling the built-in workload", rec.Stderr);

            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            output.WriteLine(rep.Stdout);
            Assert.Equal(0, rep.ExitCode);
            Assert.Contains("Counted CPU_CLOCK events", rep.Stdout);
            Assert.Contains("lost samples: 0 ", rep.Stdout);
            var rows = Cli.ParseSymbols(rep.Stdout);
            Assert.Equal(["hot_sixty", "hot_thirty", "hot_ten"], rows.Take(3).Select(r => r.Symbol));
            Assert.All(rows.Take(3), r => Assert.Equal("hotloop", r.Image));
            Assert.InRange(rows[0].Percent, 53, 67);
            Assert.InRange(rows[1].Percent, 23, 37);
            Assert.InRange(rows[2].Percent, 3, 17);

            var svg = Path.Combine(dir, "flame.svg");
            var folded = Path.Combine(dir, "flame.folded");
            Assert.Equal(0, Cli.Run("flame", "--session-dir", dir, "--output", svg).ExitCode);
            Assert.Equal(0, Cli.Run("flame", "--session-dir", dir, "--output", folded, "--weight", "samples").ExitCode);
            var doc = System.Xml.Linq.XDocument.Load(svg);
            Assert.Contains("hot_sixty", doc.ToString());
            var lines = File.ReadAllLines(folded);
            // Process name as root frame, then the shared caller above each hot function.
            Assert.Contains(lines, l => l.StartsWith("hotloop;", StringComparison.Ordinal) && l.Contains(";dispatch;hot_sixty "));
            Assert.Contains(lines, l => l.Contains(";dispatch;hot_ten "));
            long foldedTotal = lines.Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
            Assert.Equal(rows.Sum(r => r.Samples), foldedTotal);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [RootFact]
    public void RecordSystemWide_SeesOtherProcessesAndKernel()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--session-dir", dir, "-a", "--event", "CPU_CLOCK:500000", "--", Cli.Workload, "1");
            Assert.Equal(0, rec.ExitCode);
            var rep = Cli.Run("opreport", "--session-dir", dir);
            output.WriteLine(rep.Stdout);
            Assert.Contains("hotloop", rep.Stdout);
            Assert.Contains("[kernel.kallsyms]", rep.Stdout);
            Assert.Contains("count 500000", rep.Stdout);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
