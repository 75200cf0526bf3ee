using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>--strict</c> on every verb that reads a trace file: real perf script output (137 <c>cpu-clock</c> samples) with one
/// junk line. Without it the line is skipped and counted in a warning and every sample is kept; with it the verb stops
/// at the line, names the file and the line number, and exits 1.
/// </summary>
public sealed class StrictInputTests(ITestOutputHelper output) : IDisposable
{
    private const int JunkLine = 38; // after the 7th sample's closing blank line
    private const long Samples = 137;
    private readonly string _dir = Directory.CreateTempSubdirectory("xenoprof-strict-").FullName;
    private string Trace => Path.Combine(_dir, "junk.perf.txt");

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string WriteTrace()
    {
        var lines = File.ReadAllLines(Path.Combine(Cli.BinDir, "Data", "perf-script", "simple-with-pid.txt")).ToList();
        lines.Insert(JunkLine - 1, "hello world 42");
        File.WriteAllLines(Trace, lines);
        return Trace;
    }

    private void AssertStopsAtTheLine(Cli.Result r, string verb)
    {
        output.WriteLine($"{verb} --strict: exit {r.ExitCode}\n{r.Stderr}");
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Trim().Split('\n');
        Assert.Contains(lines, l => l.StartsWith($"xenoprof {verb}: {Trace}: line {JunkLine}: ", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }

    private static void AssertSkippedAndCounted(Cli.Result r, string verb)
    {
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"xenoprof {verb}: warning: 1 lines did not parse and were skipped", r.Stderr);
        Assert.Contains($"line {JunkLine}: ", r.Stderr);
    }

    [Fact]
    public void Import()
    {
        var trace = WriteTrace();
        var lenient = Cli.Run("import", "--session-dir", Path.Combine(_dir, "lenient"), trace);
        output.WriteLine(lenient.Stderr);
        AssertSkippedAndCounted(lenient, "import");
        Assert.Contains($"{Samples} samples", lenient.Stderr);
        var rep = Cli.Run("opreport", "-l", "--session-dir", Path.Combine(_dir, "lenient"));
        Assert.Equal(Samples, Cli.ParseSymbols(rep.Stdout).Sum(r => r.Samples));

        AssertStopsAtTheLine(Cli.Run("import", "--strict", "--session-dir", Path.Combine(_dir, "strict"), trace), "import");
    }

    [Fact]
    public void OpreportFile()
    {
        var trace = WriteTrace();
        var lenient = Cli.Run("opreport", "-l", trace);
        output.WriteLine(lenient.Stderr);
        AssertSkippedAndCounted(lenient, "opreport");
        Assert.Equal(Samples, Cli.ParseSymbols(lenient.Stdout).Sum(r => r.Samples));
        // The lenient import is cached beside the file; a strict report must not trust it.
        var strict = Cli.Run("opreport", "-l", "--strict", trace);
        AssertStopsAtTheLine(strict, "opreport");
        Assert.Empty(strict.Stdout.Trim());
    }

    [Theory]
    [InlineData("flame.svg")]    // through the file's cached import
    [InlineData("flame.folded")] // folded straight from the text by stackcollapse-perf.pl's rules
    public void FlameFile(string outputName)
    {
        var trace = WriteTrace();
        var outFile = Path.Combine(_dir, outputName);
        var lenient = Cli.Run("flame", "--output", outFile, trace);
        output.WriteLine(lenient.Stderr);
        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains("1 lines did not parse and were skipped", lenient.Stderr);
        Assert.Contains($"line {JunkLine}: ", lenient.Stderr);
        Assert.True(new FileInfo(outFile).Length > 0);
        File.Delete(outFile);

        AssertStopsAtTheLine(Cli.Run("flame", "--strict", "--output", outFile, trace), "flame");
        Assert.False(File.Exists(outFile), "a strict run that stopped wrote its output anyway");
    }
}
