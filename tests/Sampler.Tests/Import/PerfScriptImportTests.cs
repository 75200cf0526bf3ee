using System.IO.Compression;
using System.Text;
using Microsoft.Data.Sqlite;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// perf script text imported into the session store keeps every sample: on the FlameGraph and inferno corpora
/// (peer-data), the store's samples per thread equal what the folding of the same file (inferno's dialect, which
/// keeps a last sample no blank line ends, counting samples rather than periods) gives per thread, for the event
/// the folding keeps; and the store validates.
/// </summary>
public sealed class PerfScriptImportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-perfscript-").FullName;

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    public static IEnumerable<object[]> Inputs()
    {
        if (PeerData.Root == null) return [["(absent)"]];
        var fg = Directory.GetFiles(Path.Combine(PeerData.Root, "flamegraph-tests", "inputs"));
        var inf = Directory.GetFiles(Path.Combine(PeerData.Root, "inferno", "collapse-perf"), "*.txt");
        return fg.Concat(inf).Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetRelativePath(PeerData.Root, f) });
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Import_SamplesPerThreadEqualTheFolding(string relative)
    {
        if (PeerData.Root == null) { output.WriteLine("skipped: " + PeerData.Absent); return; }
        var file = Path.Combine(PeerData.Root, relative);
        if (file.EndsWith(".gz", StringComparison.Ordinal))
        {
            var plain = Path.Combine(_dir, Path.GetFileNameWithoutExtension(file));
            using (var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress))
            using (var o = File.Create(plain)) gz.CopyTo(o);
            file = plain;
        }
        // Folded with --tid: the root is comm-PID/TID.
        Dictionary<string, long> folded;
        using (var text = new StreamReader(file, Encoding.Latin1))
            folded = PerfScriptCollapse.Fold(text, new CollapseOptions { Tid = true, Dialect = CollapseDialect.Inferno, CountSamples = true });
        var want = new Dictionary<int, long>();
        foreach (var (stack, n) in folded)
        {
            var root = stack.Split(';')[0];
            var tid = int.Parse(root[(root.LastIndexOf('/') + 1)..]);
            want[tid] = want.GetValueOrDefault(tid) + n;
        }

        var dir = new SessionDirectory(Path.Combine(_dir, "s"));
        if (new FileInfo(file).Length == 0)
        {
            Assert.Empty(want);
            Assert.Equal(TraceFormat.Unknown, TraceImport.Sniff(file)); // an empty file is no trace
            return;
        }
        var r = TraceImport.Import(file, dir);
        Assert.Equal("perf script", r.Format);
        using var s = SessionStore.OpenRead(dir.StorePath);
        Assert.Empty(s.Validate());
        // The folding keeps the first event seen (by its name without modifiers) and lines that name none.
        var events = s.ReadEvents();
        string Base(string n) => n.IndexOf(':') is var c and > 0 ? n[..c] : n;
        var first = Base(events[0].Name);
        var kept = events.Where(e => Base(e.Name) == first || e.Name == "sample").Select(e => e.Id).ToHashSet();
        var got = s.ReadSamples().Where(x => kept.Contains(x.Event)).GroupBy(x => x.Tid).ToDictionary(g => g.Key, g => g.Sum(x => x.Weight));
        output.WriteLine($"{relative}: {r.Samples} samples, {want.Values.Sum()} in the folding, {events.Count} events");
        Assert.Equal(want.OrderBy(k => k.Key), got.OrderBy(k => k.Key));
    }

    [Fact]
    public void Import_KeepsPerfNamesInlinedFramesAndUnknownAsUnnamed()
    {
        var file = Path.Combine(_dir, "small.perf.txt");
        File.WriteAllText(file, """
            app 100/100 [000] 1.000000: cycles:
            	    401b97 inner (/usr/bin/app) (inlined)
            	    401b97 main+0x1f (/usr/bin/app)
            	    7f0012 [unknown] (/usr/lib/libc.so.6)
            	ffffffff81000010 do_syscall_64+0x10 ([kernel.kallsyms])

            app 100/101 [001] 1.000250: cycles:  ffffffff81000010 do_syscall_64+0x10 ([kernel.kallsyms])
            """);
        Assert.Equal(TraceFormat.PerfScript, TraceImport.Sniff(file));
        var dir = new SessionDirectory(Path.Combine(_dir, "small"));
        var r = TraceImport.Import(file, dir);
        Assert.Equal(2, r.Samples);
        using var s = SessionStore.OpenRead(dir.StorePath);
        Assert.Empty(s.Validate());
        var images = s.ReadImages().Values.ToDictionary(i => i.Path, i => i.Kind);
        Assert.Equal(ImageKind.Elf, images["/usr/bin/app"]);
        Assert.Equal(ImageKind.Kernel, images["[kernel.kallsyms]"]);
        var names = s.ReadFrameNames();
        var frames = s.ReadFrames();
        var stacks = s.ReadStacks();
        var samples = s.ReadSamples().ToList();
        // Root first: the kernel entry, then libc's unnamed frame, main, and inner inlined into main at the same IP.
        var chain = new List<(string?, ulong)>();
        for (var st = samples[0].Stack; st.Value != 0; st = stacks[st].Parent)
            chain.Add((names[stacks[st].Frame], frames[stacks[st].Frame].Offset));
        chain.Reverse();
        Assert.Equal([("do_syscall_64", 0xffffffff81000010UL), (null, 0x7f0012UL), ("main", 0x401b97UL), ("inner", 0x401b97UL)], chain);
        Assert.Equal(SampleMode.User, samples[0].Mode);
        Assert.Equal(SampleMode.Kernel, samples[1].Mode);
        Assert.Equal((100, 101, 1, 1_000_250_000L), (samples[1].Pid, samples[1].Tid, samples[1].Cpu, samples[1].TimeNs));
        Assert.Equal("app", s.ReadThreads()[(0, 101)].Comm);
    }

    [Fact]
    public void Reader_FieldsFramesInlinedAndUnknown()
    {
        const string text = """
            # a comment
            app 100/101 [002] 12.000000500:     250000 cycles:u:
            	    401b97 inner (/usr/bin/app) (inlined)
            	    401b97 main+0x1f (/usr/bin/app)
            	    7f0012 [unknown] (/memfd:doublemapper (deleted))
            	    7f1200 Outer->Mid+0x4 (/tmp/perf-100.map)

              app   101 12.5: cpu-clock:  ffffffff81000010 do_syscall_64+0x10 ([kernel.kallsyms])
              [kernel.kallsyms][ffffffff81000010]
            """;
        var reader = new PerfScriptReader();
        var samples = reader.Read(new StringReader(text)).ToList();
        Assert.Equal(0, reader.SkippedLines); // the last line is a -F +srcline source line
        Assert.Equal(2, samples.Count);
        var a = samples[0];
        Assert.Equal(("app", 100, 101, 2, 12_000_000_500L, 250000L, "cycles:u"), (a.Comm, a.Pid!.Value, a.Tid, a.Cpu!.Value, a.TimeNs!.Value, a.Period!.Value, a.Event!));
        Assert.Equal(["inner", "main", null, "Mid", "Outer"], a.Frames.Select(f => f.Symbol));
        Assert.Equal([true, false, false, true, false], a.Frames.Select(f => f.Inlined));
        Assert.Equal("/memfd:doublemapper (deleted)", a.Frames[2].Dso);
        var b = samples[1];
        Assert.Null(b.Pid);
        Assert.Equal(101, b.Tid);
        Assert.Equal(12_500_000_000L, b.TimeNs);
        Assert.Equal("cpu-clock", b.Event);
        Assert.Equal(new PerfScriptFrame(0xffffffff81000010, "do_syscall_64", "[kernel.kallsyms]", false), b.Frames.Single());
    }
}
