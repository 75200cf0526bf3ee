using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>Reports straight on a perf.data: the cached import is shared safely by commands started together.</summary>
public sealed class DirectTraceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-direct-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string? PeerFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "shared", "peer-data", relative);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    [Fact]
    public async Task CommandsStartedTogetherImportOnceAndAgree()
    {
        var source = PeerFile("perfparser/parallel_static_gcc.perf.data.zstd");
        if (source == null) { output.WriteLine("SKIPPED: ../shared/peer-data is not beside the repository"); return; }
        var file = Path.Combine(_dir, "trace.data");
        File.Copy(source, file);

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => Cli.Run("opreport", "-l", file))));
        foreach (var r in runs) Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Single(runs.Select(r => r.Stdout).Distinct());
        // Exactly one of them imported (and gave the import's warnings); the others waited and read its cache.
        Assert.Single(runs, r => r.Stderr.Contains("warning: kernel symbols: the file was recorded on milian-workstation"));
        Assert.Contains("parallel_static_gcc", runs[0].Stdout);

        // The cache is reused while the file is unchanged, and a second report is the same.
        var again = Cli.Run("opreport", "-l", file);
        Assert.Equal(runs[0].Stdout, again.Stdout);
        Assert.DoesNotContain("kernel symbols", again.Stderr); // no import this time: only the report's own warnings
    }
}
