using Microsoft.Data.Sqlite;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.Text;

/// <summary>opreport layouts on a small store with a fake symbolizer; golden files under Data/opreport/ (XENPROF_UPDATE_GOLDEN=1 rewrites them).</summary>
public sealed class OpreportWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-opreport-").FullName;

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    /// <summary>Names frames from a table: (image path, offset) → symbol; everything else unresolved.</summary>
    private sealed class TableSymbolizer : IFrameSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset) => (image.Path, offset) switch
        {
            ("/opt/app/bin/app", >= 0x1000 and < 0x1100) => "hot_sixty",
            ("/opt/app/bin/app", >= 0x1100 and < 0x1200) => "hot_thirty",
            ("/opt/app/bin/app", >= 0x1200 and < 0x1300) => "main",
            ("[kernel.kallsyms]", _) => "schedule",
            _ => null,
        };
        public IReadOnlyList<string> Warnings => ["/opt/app/lib/libgone.so: not found; its samples stay unresolved"];
    }

    private Profile.Profile BuildProfile(bool withStacks = false)
    {
        var path = Path.Combine(_dir, StoreSchema.FileName);
        using (var s = SessionStore.Create(path))
        {
            s.SetMeta("cpu", "Test CPU");
            s.SetMeta("cpu_mhz", "2600");
            var ev = s.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "CPU clock timer")).Id;
            var app = s.InternImage("/opt/app/bin/app", ImageKind.Elf, null);
            var gone = s.InternImage("/opt/app/lib/libgone.so", ImageKind.Elf, null);
            var k = s.InternImage("[kernel.kallsyms]", ImageKind.Kernel, null);
            var main = s.InternFrame(app, 0x1210);
            var rows = new (StackId Stack, int N)[]
            {
                (s.InternStack([main, s.InternFrame(app, 0x1010)]), 600),
                (s.InternStack([main, s.InternFrame(app, 0x1110)]), 300),
                (s.InternStack([main, s.InternFrame(gone, 0x5000)]), 60),
                (s.InternStack([main, s.InternFrame(app, 0x1010), s.InternFrame(k, 0xffffffff81000000)]), 40),
            };
            s.SetProcess(0, 100, 1, "app");
            long t = 0;
            foreach (var (st, n) in rows)
                for (int i = 0; i < n; i++) s.AddSample(new StoredSample(t++, 0, 0, 100, 100, ev, st, SampleMode.User, 1));
            s.AddCounter(CounterNames.LostSamples, 3);
        }
        using var r = SessionStore.OpenRead(path);
        return ProfileBuilder.Build(r, new TableSymbolizer(), new ProfileOptions { WithStacks = withStacks });
    }

    [Theory]
    [InlineData("opreport.images.txt", false, true)]
    [InlineData("opreport.symbols.txt", true, true)]
    [InlineData("opreport.symbols.no-error-bars.txt", true, false)]
    public void MatchesGolden(string golden, bool symbols, bool errorBars)
    {
        var w = new StringWriter { NewLine = "\n" };
        OpreportWriter.Write(BuildProfile(), w, new OpreportOptions { Symbols = symbols, ErrorBars = errorBars });
        var file = Path.Combine(AppContext.BaseDirectory, "Data", "opreport", golden);
        if (Environment.GetEnvironmentVariable("XENPROF_UPDATE_GOLDEN") == "1")
        {
            var src = Path.Combine(RepoRoot(), "tests", "Reporter.Tests", "Data", "opreport", golden);
            File.WriteAllText(src, w.ToString());
            return;
        }
        Assert.Equal(File.ReadAllText(file), w.ToString());
    }

    [Fact]
    public void ErrorBarIsTheBinomialStandardError()
    {
        var (pct, err) = Profile.Profile.Share(600, 1000);
        Assert.Equal(60.0, pct, 9);
        Assert.Equal(100 * Math.Sqrt(0.6 * 0.4 / 1000), err, 9);
        Assert.Equal((0.0, 0.0), Profile.Profile.Share(0, 0));
    }

    [Fact]
    public void Threshold_HidesSmallRows()
    {
        var w = new StringWriter();
        OpreportWriter.Write(BuildProfile(), w, new OpreportOptions { Symbols = true, Threshold = 5 });
        Assert.DoesNotContain("schedule", w.ToString());
        Assert.Contains("(no symbols)", w.ToString());
    }

    [Fact]
    public void Stacks_RootFirst_WithUnresolvedFramesNamedByImage()
    {
        var p = BuildProfile(withStacks: true);
        var stacks = p.StackTotals.Select(t => (Frames: p.StackOf(t.Stack), Total: t)).ToList();
        var deepest = stacks.Single(s => s.Frames.Count == 3);
        Assert.Equal(["main", "hot_sixty", "schedule"], deepest.Frames.Select(f => f.Name));
        Assert.Equal("app", p.Labels.ProcessName(deepest.Total.Domain, deepest.Total.Pid));
        Assert.Contains(stacks, s => s.Frames[^1].Name == "[libgone.so]");
        Assert.Equal(1000, stacks.Sum(s => s.Total.Weight));
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
