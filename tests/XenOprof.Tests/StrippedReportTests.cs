using System.Diagnostics;
using Xunit;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A real record of a stripped copy of the built-in workload: opreport -l names its functions by image and start
/// (no "(no symbols)" row for it), --no-recovery shows perf's unresolved view, opannotate lists the hottest one.
/// </summary>
public class StrippedReportTests
{
    [RootFact]
    public void StrippedWorkload_FunctionsRecovered_AndAnnotated()
    {
        var dir = Cli.NewSessionDir();
        var bin = Path.Combine(Path.GetTempPath(), "xenoprof-stripped-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            File.Copy(Cli.Workload, bin);
            using (var strip = Process.Start("strip", ["--strip-all", bin])) strip.WaitForExit();
            var rec = Cli.Run("record", "--session-dir", dir, "--", bin, "1");
            Assert.True(rec.ExitCode == 0, rec.Stderr);

            var name = Path.GetFileName(bin);
            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.True(rep.ExitCode == 0, rep.Stderr);
            var rows = Cli.ParseSymbols(rep.Stdout).Where(r => r.Image == name).ToList();
            Assert.DoesNotContain(rows, r => r.Symbol == "(no symbols)");
            Assert.True(rows.Count >= 3, rep.Stdout);
            Assert.All(rows, r => Assert.StartsWith(name + "+0x", r.Symbol));

            var images = Cli.Run("opreport", "--session-dir", dir, "--no-error-bars", "-n");
            long imageTotal = images.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length == 3 && f[2] == name).Select(f => long.Parse(f[0])).Single();
            Assert.Equal(imageTotal, rows.Sum(r => r.Samples));

            var perfView = Cli.Run("opreport", "-l", "--no-recovery", "--session-dir", dir);
            Assert.Contains(Cli.ParseSymbols(perfView.Stdout), r => r.Image == name && r.Symbol == "(no symbols)");

            var hottest = rows.OrderByDescending(r => r.Samples).First();
            var ann = Cli.Run("opannotate", "--assembly", "--session-dir", dir, "--include-symbols", hottest.Symbol, "--skid-adjust");
            Assert.True(ann.ExitCode == 0, ann.Stderr);
            Assert.Contains($"<{hottest.Symbol}>: /* {hottest.Symbol} total: {hottest.Samples,6} ", ann.Stdout);
            Assert.Contains("Output annotated assembly listing with samples", ann.Stdout);
            Assert.Contains(" | ", ann.Stdout); // both columns
        }
        finally
        {
            File.Delete(bin);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
