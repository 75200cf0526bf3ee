using Microsoft.Data.Sqlite;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.ProfileModel;

/// <summary>oprofile's profile specification terms (oprofile(1), libpp/profile_spec.cpp) as <see cref="ProfileSpec"/> parses
/// and applies them, and the image globs <see cref="ImageFilter"/> matches as fnmatch(3) does.</summary>
public sealed class ProfileSpecTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-spec-").FullName;

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    private sealed class Names : IFrameSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset) => image.Path == "/bin/app" ? (offset < 0x2000 ? "alpha" : "beta") : null;
        public IReadOnlyList<string> Warnings => [];
    }

    // Two events (periods 1000 and 5000, unit masks 0 and 2); samples of pids 10 (tids 10, 11) and 20 on CPUs 0-2, in
    // /bin/app's alpha and beta and in /lib/libz.so.
    private XenProf.Reporter.Profile.Profile Build(ProfileOptions o)
    {
        var path = Path.Combine(_dir, StoreSchema.FileName);
        if (!File.Exists(path))
        {
            using var s = SessionStore.Create(path);
            var e1 = s.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000, 0, true, true, "ns", "clock")).Id;
            var e2 = s.AddEvent(new StoredEvent("TASK_CLOCK", 1, 1, 5000, 2, true, true, "ns", "task")).Id;
            var app = s.InternImage("/bin/app", ImageKind.Elf, null);
            var lib = s.InternImage("/lib/libz.so", ImageKind.Elf, null);
            var alpha = s.InternStack([s.InternFrame(app, 0x1000)]);
            var beta = s.InternStack([s.InternFrame(app, 0x3000)]);
            var z = s.InternStack([s.InternFrame(lib, 0x10)]);
            long t = 0;
            void Add(int n, int cpu, int pid, int tid, EventId ev, StackId st)
            {
                for (int i = 0; i < n; i++) s.AddSample(new StoredSample(t++, cpu, 0, pid, tid, ev, st, SampleMode.User, 1));
            }
            Add(50, 0, 10, 10, e1, alpha);
            Add(30, 1, 10, 11, e1, beta);
            Add(20, 2, 20, 20, e1, z);
            Add(7, 0, 10, 10, e2, alpha);
        }
        using var r = SessionStore.OpenRead(path);
        return ProfileBuilder.Build(r, new Names(), o);
    }

    // spec terms and symbol filters → total samples selected
    [Theory]
    [InlineData("", "", 107)]
    [InlineData("tgid:10", "", 87)]
    [InlineData("tgid:10,20", "", 107)]
    [InlineData("tid:11", "", 30)]
    [InlineData("tid:10,20 cpu:0", "", 57)]
    [InlineData("cpu:1,2", "", 50)]
    [InlineData("count:1000", "", 100)]
    [InlineData("unit-mask:2", "", 7)]
    [InlineData("event:task_clock count:5000", "", 7)]
    [InlineData("image:libz.so", "", 20)]
    [InlineData("image:/bin/* image-exclude:libz*", "", 87)]
    [InlineData("image-exclude:app", "", 20)]
    [InlineData("", "-alpha", 50)]
    [InlineData("", "+alpha", 57)]
    [InlineData("", "+alpha -alpha", 0)]
    [InlineData("cpu:0", "+beta", 0)]
    public void Build_SelectsWhatTheSpecNames(string terms, string symbols, long total)
    {
        var filters = symbols.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var o = ProfileSpec.Parse(terms.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ApplyTo(new ProfileOptions
        {
            IncludeSymbols = filters.Where(f => f[0] == '+').Select(f => f[1..]).ToList(),
            ExcludeSymbols = filters.Where(f => f[0] == '-').Select(f => f[1..]).ToList(),
        });
        var p = Build(o);
        Assert.Equal(total, p.Totals.Sum());
        Assert.Equal(total, p.Images.Sum(i => i.Counts.Total));
        Assert.Equal(total, p.Symbols.Sum(s => s.Counts.Total));
        Assert.Equal(total, p.StackTotals.Sum(s => s.Weight));
    }

    [Fact]
    public void Build_EventThatMatchesNothing_NamesTheSessionsEvents()
    {
        var e = Assert.Throws<XenProfUserException>(() => Build(new ProfileOptions { Count = 7 }));
        Assert.Equal("count:7 matches no event of this session (it has event:CPU_CLOCK count:1000 unit-mask:0, event:TASK_CLOCK count:5000 unit-mask:2)", e.Message);
    }

    // One case per line: the arguments, then the spec they give (ToString, which lists terms in ProfileSpec.Tags order) and the rest.
    [Theory]
    [InlineData("image:hotloop", "image:hotloop", "")]
    [InlineData("image:/usr/bin/*,libc.so.6 image-exclude:ld-*", "image:/usr/bin/*,libc.so.6 image-exclude:ld-*", "")]
    [InlineData("event:CPU_CLOCK count:1000000 unit-mask:0x10", "event:CPU_CLOCK count:1000000 unit-mask:16", "")]
    [InlineData("tgid:12,13,12 tid:14 cpu:0,1", "tgid:12,13 tid:14 cpu:0,1", "")]
    [InlineData("tgid:all cpu:all event:all", "", "")]
    [InlineData("domain:3 session:base", "session:base domain:3", "")]
    [InlineData("perf.data cpu:1", "cpu:1", "perf.data")]
    [InlineData("/tmp/a:b ./x:y", "", "/tmp/a:b ./x:y")]
    public void Parse_TermsAndRest(string args, string expected, string rest)
    {
        var spec = ProfileSpec.Parse(args.Split(' '));
        Assert.Equal(expected, spec.ToString());
        Assert.Equal(rest, string.Join(' ', spec.Rest));
    }

    [Theory]
    [InlineData("foo:1", "unknown profile specification tag 'foo' (valid: session:, image:, image-exclude:, event:, count:, unit-mask:, tgid:, tid:, cpu:, domain:)")]
    [InlineData("cpu:1 cpu:2", "cpu:2: tag 'cpu:' given more than once")]
    [InlineData("tid:x", "tid:x: 'x' is not a number")]
    [InlineData("count:-5", "count:-5: '-5' is not a number")]
    [InlineData("image:", "image:: 'image:' needs a value")]
    [InlineData("domain:1,2", "domain:1,2: '1,2' is not a number")]
    public void Parse_BadTerms_AreUserErrors(string args, string message)
    {
        var e = Assert.Throws<XenProfUserException>(() => ProfileSpec.Parse(args.Split(' ')));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ApplyTo_FillsTheQuery_AndRefusesContradictions()
    {
        var o = ProfileSpec.Parse(["tgid:5,6", "cpu:1", "image:a*", "count:100"]).ApplyTo(new ProfileOptions { ExcludeSymbols = ["x"] });
        Assert.Equal([5, 6], o.Tgids!);
        Assert.Equal([1], o.Cpus!);
        Assert.Null(o.Tids);
        Assert.Equal(["a*"], o.Images);
        Assert.Equal(100UL, o.Count);
        Assert.Equal(["x"], o.ExcludeSymbols);
        Assert.Throws<XenProfUserException>(() => ProfileSpec.Parse(["event:A"]).ApplyTo(new ProfileOptions { Event = "B" }));
        Assert.Throws<XenProfUserException>(() => ProfileSpec.Parse(["domain:1"]).ApplyTo(new ProfileOptions { Domain = 2 }));
    }

    // pattern, image path, report name, kept?
    [Theory]
    [InlineData("hotloop", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("hot*", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("h?tloop", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("[gh]otloop", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("[!h]otloop", "/tmp/x/hotloop", "hotloop", false)]
    [InlineData("loop", "/tmp/x/hotloop", "hotloop", false)]
    [InlineData("/tmp/*", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("/tmp/x/hotloop", "/tmp/x/hotloop", "hotloop", true)]
    [InlineData("/usr/*", "/tmp/x/hotloop", "hotloop", false)]
    [InlineData("libc.so*", "/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6", true)]
    [InlineData("[kernel.kallsyms]", "[kernel.kallsyms]", "[kernel.kallsyms]", true)]
    [InlineData("domain1-*", "/boot/vmlinux-guest", "domain1-kernel", true)]
    public void ImageFilter_MatchesAsFnmatch(string pattern, string path, string display, bool kept)
    {
        var image = new StoredImage(new ImageId(1), path, null, ImageKind.Elf);
        Assert.Equal(kept, new ImageFilter([pattern], []).Keeps(image, display));
        Assert.Equal(!kept, new ImageFilter([], [pattern]).Keeps(image, display));
    }
}
