using System.Text;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Session;
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

    /// <summary>Two mutants of a 4 KB EventPipe trace that TraceEvent 4.0 answered by allocating what they declare: a
    /// metadata field count of 1,140,862,208 (the process grew to 24 GB until the OOM killer ended it) and a block
    /// larger than the file. Both are now refused before TraceEvent sees them, naming the file, the offset and the
    /// numbers, and nothing is imported. A third, which TraceEvent converts and then cannot read back, is malformed input
    /// too, not an internal error.</summary>
    [Theory]
    [InlineData("nettrace-field-count.nettrace", "offset 0xd5: nettrace metadata: the record declares 1140862208 fields but has 62 bytes left")]
    [InlineData("nettrace-etlx-read-past-end.nettrace", ": nettrace: TraceEvent stopped reading this EventPipe trace after 2 events (0 samples): Read past end of stream")]
    [InlineData("nettrace-block-size.nettrace", "offset 0x83: nettrace MetadataBlock: the block declares -16777073 bytes but the file has 1312 left")]
    public void NetTrace_DeclaredSizesBeyondTheFile_AreRefusedBeforeTraceEventAllocatesThem(string file, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-fuzz-nettrace-").FullName;
        try
        {
            var e = Assert.Throws<Hypervisor.Binary.MalformedDataException>(() => TraceImport.Import(Data(file), new SessionDirectory(Path.Combine(dir, "s"))));
            Assert.Contains(Data(file), e.Message);
            Assert.Contains(expected, e.Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
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
