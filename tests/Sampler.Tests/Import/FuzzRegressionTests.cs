using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>Inputs fuzzing found (Data/fuzz, with SOURCES.md): each now gives a result, never an internal error.</summary>
public sealed class FuzzRegressionTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "fuzz", name);

    [Theory]
    [InlineData(CollapseDialect.FlameGraph)]
    [InlineData(CollapseDialect.Inferno)]
    public void Collapse_PeriodBeyondInt64_DropsThatSample(CollapseDialect dialect)
    {
        using var text = new StreamReader(Data("perf-script-period-beyond-int64.txt"), Encoding.Latin1);
        var folded = PerfScriptCollapse.Fold(text, new CollapseOptions { Dialect = dialect });
        Assert.Equal(new Dictionary<string, long> { ["app;main"] = 2000 }, folded);
    }

    [Fact]
    public void Reader_PeriodBeyondInt64_SkipsThatSample()
    {
        var reader = new PerfScriptReader("p.txt");
        using var text = new StreamReader(Data("perf-script-period-beyond-int64.txt"), Encoding.Latin1);
        Assert.Equal(2, reader.Read(text).Count());
        Assert.Equal(1, reader.SkippedSamples);
        Assert.Contains("line 4: perf script event line: period 99999999999999999999 is out of range", reader.FirstProblem!.Message);
    }
}

/// <summary>Inputs afl++ saved as hangs: each must now take well under a second.</summary>
public sealed class FuzzHangRegressionTests
{
    [Fact]
    public void Collapse_LongDigitRuns_DoNotBacktrackExponentially()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "fuzz", "perf-script-backtracking.txt"), Encoding.Latin1);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        PerfScriptCollapse.Fold(new StringReader(text), new CollapseOptions());
        PerfScriptCollapse.Fold(new StringReader(text), new CollapseOptions { Dialect = CollapseDialect.Inferno });
        new PerfScriptReader().Read(new StringReader(text)).Count();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"took {sw.Elapsed.TotalSeconds:F1} s (it took 205 s before)");
    }
}
