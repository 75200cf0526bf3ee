using Microsoft.Data.Sqlite;
using XenProf.Sampler.Import;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// A .nettrace collected from our burner (Data/nettrace/SOURCES.md: Burner.Hot does three times Burner.Warm's work)
/// imports into a valid store whose leaf frames carry the method names, each thread's samples in time order.
/// </summary>
public sealed class NetTraceImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-nettrace-").FullName;
    private static string Trace => Path.Combine(AppContext.BaseDirectory, "Data", "nettrace", "burner-2s.nettrace");

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    [Fact]
    public void Sniff_TellsNettraceFromPerfDataAndText()
    {
        Assert.Equal(TraceFormat.NetTrace, TraceImport.Sniff(Trace));
        var text = Path.Combine(_dir, "x.txt");
        File.WriteAllText(text, "hello world\nthis is not a trace\n");
        Assert.Equal(TraceFormat.Unknown, TraceImport.Sniff(text));
    }

    [Fact]
    public void Import_NamesManagedMethods_HotIsThreeTimesWarm()
    {
        var dir = new SessionDirectory(Path.Combine(_dir, "s"));
        var r = TraceImport.Import(Trace, dir);
        Assert.Equal(".nettrace", r.Format);
        Assert.Equal(1718, r.Samples);
        using var s = SessionStore.OpenRead(dir.StorePath);
        Assert.Empty(s.Validate());
        var leaf = LeafCounts(s, NetTraceImporterEvent(s));
        var hot = leaf.GetValueOrDefault("burner!Burner.Hot(int64)");
        var warm = leaf.GetValueOrDefault("burner!Burner.Warm(int64)");
        Assert.True(hot > 1000 && warm > 300, $"Hot {hot}, Warm {warm}");
        Assert.InRange((double)hot / warm, 2.4, 3.6);
        // Each thread's samples are kept with their own timestamps, in order.
        foreach (var g in s.ReadSamples().GroupBy(x => x.Tid))
        {
            var times = g.Select(x => x.TimeNs).ToList();
            Assert.Equal(times.Order().ToList(), times);
            Assert.True(times[^1] > times[0]);
        }
        Assert.Contains(s.ReadImages().Values, i => i.Kind == ImageKind.Managed && i.Path == "System.Private.CoreLib");
    }

    /// <summary>
    /// The import's canonical text dump equals its twin <c>burner-2s.nettrace.import.txt</c>: samples per
    /// event, per thread with first and last time, and self samples per leaf frame. XENPROF_UPDATE_GOLDEN=1 rewrites it.
    /// </summary>
    [Fact]
    public void Import_EqualsItsTextTwin()
    {
        var dir = new SessionDirectory(Path.Combine(_dir, "twin"));
        TraceImport.Import(Trace, dir);
        using var s = SessionStore.OpenRead(dir.StorePath);
        var w = new StringWriter { NewLine = "\n" };
        w.WriteLine("# burner-2s.nettrace as XenProf imports it (NetTraceImportTests.Import_EqualsItsTextTwin; XENPROF_UPDATE_GOLDEN=1 rewrites)");
        var events = s.ReadEvents();
        var samples = s.ReadSamples().ToList();
        foreach (var e in events) w.WriteLine($"event {e.Name} samples {samples.Count(x => x.Event == e.Id)}");
        var threads = s.ReadThreads();
        foreach (var g in samples.GroupBy(x => x.Tid).OrderBy(g => g.Key))
            w.WriteLine($"thread {g.Key} pid {g.First().Pid} comm {threads[(0, g.Key)].Comm} samples {g.Count()} first_ns {g.Min(x => x.TimeNs)} last_ns {g.Max(x => x.TimeNs)}");
        foreach (var e in events)
            foreach (var (name, n) in LeafCounts(s, e.Id).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
                w.WriteLine($"leaf {e.Name} {n} {name}");
        var twin = Trace + ".import.txt";
        if (Environment.GetEnvironmentVariable("XENPROF_UPDATE_GOLDEN") == "1")
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(root.FullName, "XenProf.sln"))) root = root.Parent!;
            File.WriteAllText(Path.Combine(root.FullName, "tests", "Sampler.Tests", "Data", "nettrace", Path.GetFileName(twin)), w.ToString());
            return;
        }
        Assert.Equal(File.ReadAllText(twin), w.ToString());
    }

    [Fact]
    public void TruncatedTrace_IsMalformedInputNamingTheFile()
    {
        var cut = Path.Combine(_dir, "cut.nettrace");
        File.WriteAllBytes(cut, File.ReadAllBytes(Trace)[..100_000]);
        Assert.Equal(TraceFormat.NetTrace, TraceImport.Sniff(cut));
        var dir = new SessionDirectory(Path.Combine(_dir, "cut"));
        var e = Assert.Throws<Hypervisor.Binary.MalformedDataException>(() => TraceImport.Import(cut, dir));
        Assert.Contains(cut, e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "nettrace.etlx")));
    }

    private static EventId NetTraceImporterEvent(SessionStore s) => s.ReadEvents().Single(e => e.Name == "THREAD_SAMPLE_MANAGED").Id;

    /// <summary>Self samples per "image!name" of the leaf frame, for one event.</summary>
    internal static Dictionary<string, long> LeafCounts(SessionStore s, EventId? ev = null)
    {
        var names = s.ReadFrameNames();
        var frames = s.ReadFrames();
        var images = s.ReadImages();
        var stacks = s.ReadStacks();
        var d = new Dictionary<string, long>();
        foreach (var t in s.ReadStackTotals())
        {
            if (ev != null && t.Event != ev) continue;
            var f = stacks[t.Stack].Frame;
            var key = images[frames[f].Image].Path + "!" + (names.GetValueOrDefault(f) ?? "?");
            d[key] = d.GetValueOrDefault(key) + t.Weight;
        }
        return d;
    }
}
