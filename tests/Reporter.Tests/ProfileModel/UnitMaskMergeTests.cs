using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.ProfileModel;

/// <summary>
/// opreport <c>--merge=unitmask</c> on a session with one event counted under two unit masks (as oprofile counts e.g.
/// an event with unit masks 0x01 and 0x02 in two sample files): by default two columns, merged one column whose counts
/// are the sums, under the OR of the masks; an event with another count stays its own column.
/// </summary>
public sealed class UnitMaskMergeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-unitmask-").FullName;
    private string StorePath => Path.Combine(_dir, StoreSchema.FileName);

    public UnitMaskMergeTests()
    {
        using var store = SessionStore.Create(StorePath);
        var um1 = store.AddEvent(new StoredEvent("DATA_CACHE_REFILLS", 4, 0x142, 10000, 0x01, true, true, "events", "refills from L2")).Id;
        var um2 = store.AddEvent(new StoredEvent("DATA_CACHE_REFILLS", 4, 0x242, 10000, 0x02, true, true, "events", "refills from system")).Id;
        var other = store.AddEvent(new StoredEvent("DATA_CACHE_REFILLS", 4, 0x142, 20000, 0x01, true, true, "events", "refills from L2")).Id;
        store.SetProcess(0, 10, 1, "prog");
        var img = store.InternImage("/bin/prog", ImageKind.Elf, null);
        var a = store.InternStack([store.InternFrame(img, 0xa)]);
        var b = store.InternStack([store.InternFrame(img, 0xb)]);
        long t = 0;
        void Add(EventId ev, StackId s, int n) { for (int i = 0; i < n; i++) store.AddSample(new StoredSample(t++, 0, 0, 10, 10, ev, s, SampleMode.User, 1)); }
        Add(um1, a, 3); Add(um1, b, 1);
        Add(um2, a, 2); Add(um2, b, 4);
        Add(other, a, 7);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private sealed class Symbolizer : IFrameSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset) => offset == 0xa ? "a" : "b";
        public IReadOnlyList<string> Warnings => [];
    }

    private XenProf.Reporter.Profile.Profile Build(Separation sep)
    {
        using var read = SessionStore.OpenRead(StorePath);
        return ProfileBuilder.Build(read, new Symbolizer(), new ProfileOptions { Separate = sep });
    }

    [Fact]
    public void Events_that_differ_only_in_unit_mask_become_one_column()
    {
        var apart = Build(Separation.None);
        Assert.Equal(3, apart.Events.Count);
        Assert.Equal(new long[] { 3, 2, 7 }, apart.Symbols.Single(s => s.Symbol == "a").Counts.Samples);

        var merged = Build(Separations.Merge(Separation.None, "unitmask"));
        Assert.Equal(2, merged.Events.Count);
        Assert.Equal(0x03u, merged.Events[0].UnitMask);
        Assert.Equal(10000ul, merged.Events[0].Count);
        Assert.Equal(20000ul, merged.Events[1].Count);
        Assert.Equal(new long[] { 5, 7 }, merged.Symbols.Single(s => s.Symbol == "a").Counts.Samples);
        Assert.Equal(new long[] { 5, 0 }, merged.Symbols.Single(s => s.Symbol == "b").Counts.Samples);
        Assert.Equal(new long[] { 10, 7 }, merged.Totals);

        var w = new StringWriter();
        OpreportWriter.Write(merged, w, new OpreportOptions { Symbols = true });
        Assert.Contains("with a unit mask of 0x03 (multiple flags) count 10000", w.ToString());
        Assert.Equal(2, w.ToString().Split('\n').Count(l => l.StartsWith("Counted ", StringComparison.Ordinal)));
    }
}
