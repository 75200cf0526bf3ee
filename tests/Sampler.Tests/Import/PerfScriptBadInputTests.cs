using Microsoft.Data.Sqlite;
using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// perf script lines that do not parse are skipped and counted, never turned into samples; numbers out of range are
/// errors naming the line; <c>--strict</c> (<see cref="ImportOptions.Strict"/>) stops at the first bad line.
/// </summary>
public sealed class PerfScriptBadInputTests : IDisposable
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "Data", "perf-script");
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-perfscript-bad-").FullName;

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    private const string WithHugePid = """
        app 100/100 [000] 1.000000: cycles:
        	    401b97 main+0x1f (/usr/bin/app)

        app 99999999999/101 [000] 1.000100: cycles:
        	    401b97 main+0x1f (/usr/bin/app)
        	    401000 _start (/usr/bin/app)

        app 100/102 [001] 1.000200: cycles:
        	    401b97 main+0x1f (/usr/bin/app)
        """;

    [Fact]
    public void JunkLinesInRealOutput_AreSkippedAndCounted_SamplesAreTheRealOnes()
    {
        var clean = TraceImport.Import(Path.Combine(Data, "simple-with-pid.txt"), new SessionDirectory(Path.Combine(_dir, "clean")));
        var junk = TraceImport.Import(Path.Combine(Data, "simple-with-pid.junk.txt"), new SessionDirectory(Path.Combine(_dir, "junk")));
        Assert.Equal(137, clean.Samples);
        Assert.Equal(clean.Samples, junk.Samples);
        Assert.Equal(["cpu-clock"], junk.EventNames); // no bogus "sample" or "nan" events
        using var s = SessionStore.OpenRead(new SessionDirectory(Path.Combine(_dir, "junk")).StorePath);
        Assert.Empty(s.Validate());
        Assert.Equal(23, s.ReadCounters()[CounterNames.SkippedLines]);
        Assert.Contains(junk.Warnings, w => w.Contains("23 lines did not parse") && w.Contains("simple-with-pid.junk.txt: line 38:"));
        // The frames around each junk line still belong to their sample: the stacks equal the clean import's.
        using var c = SessionStore.OpenRead(new SessionDirectory(Path.Combine(_dir, "clean")).StorePath);
        Assert.Equal(c.ReadStacks().Count, s.ReadStacks().Count);
    }

    [Fact]
    public void JunkLinesInRealOutput_Strict_StopsAtTheFirstWithItsLine()
    {
        var file = Path.Combine(Data, "simple-with-pid.junk.txt");
        var e = Assert.Throws<MalformedDataException>(() => TraceImport.Import(file, new SessionDirectory(Path.Combine(_dir, "s")), new ImportOptions { Strict = true }));
        Assert.Equal(38, e.Line);
        Assert.StartsWith(file + ": line 38: ", e.Message);
    }

    [Fact]
    public void PidBeyondInt32_IsSkippedWithItsFrames_AndCounted()
    {
        var reader = new PerfScriptReader("huge.txt");
        var samples = reader.Read(new StringReader(WithHugePid)).ToList();
        Assert.Equal([100, 102], samples.Select(x => x.Tid));
        Assert.Single(samples[0].Frames); // the bad sample's frames went with it, not into its neighbour
        Assert.Equal(1, reader.SkippedSamples);
        Assert.Equal(3, reader.SkippedLines);
        Assert.Equal("huge.txt: line 4: perf script event line: pid 99999999999 is out of range (0..2147483647)", reader.FirstProblem!.Message);
    }

    [Fact]
    public void PidBeyondInt32_Strict_IsAnErrorNamingTheLine()
    {
        var reader = new PerfScriptReader("huge.txt", strict: true);
        var e = Assert.Throws<MalformedDataException>(() => reader.Read(new StringReader(WithHugePid)).ToList());
        Assert.Equal(4, e.Line);
        Assert.Contains("pid 99999999999 is out of range", e.Message);
    }

    [Theory]
    [InlineData("app 100/4294967296 [000] 1.000000: cycles:", "tid 4294967296 is out of range")]
    [InlineData("app 100/100 [99999999999] 1.000000: cycles:", "cpu 99999999999 is out of range")]
    [InlineData("app 100/100 [000] 99999999999999999999.000000: cycles:", "time 99999999999999999999.000000 s is out of range")]
    [InlineData("app 100/100 [000] 9223372037.000000: cycles:", "time 9223372037.000000 s is out of range")]
    [InlineData("app 100/100 [000] 1.000000: 99999999999999999999 cycles:", "period 99999999999999999999 is out of range")]
    public void EveryNumericFieldIsRangeChecked(string eventLine, string problem)
    {
        var text = "app 1/1 [000] 0.5: cycles:\n\t401b97 main (/usr/bin/app)\n\n" + eventLine + "\n\t401b97 main (/usr/bin/app)\n";
        var reader = new PerfScriptReader("t.txt");
        Assert.Single(reader.Read(new StringReader(text)));
        Assert.Equal(1, reader.SkippedSamples);
        Assert.Contains("line 4: perf script event line: " + problem, reader.FirstProblem!.Message);
    }

    [Fact]
    public void FrameWithAnIpBeyond64Bits_IsSkipped()
    {
        var reader = new PerfScriptReader("t.txt");
        var s = reader.Read(new StringReader("app 1/1 [000] 0.5: cycles:\n\t1ffffffffffffffff main (/usr/bin/app)\n\t401b97 main (/usr/bin/app)\n")).Single();
        Assert.Equal(0x401b97UL, s.Frames.Single().Ip);
        Assert.Equal(1, reader.SkippedLines);
        Assert.Contains("line 2: perf script frame line", reader.FirstProblem!.Message);
    }
}
