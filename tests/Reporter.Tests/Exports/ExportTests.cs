using XenProf.Reporter.Profile;
using System.Text.Json;
using System.Text.RegularExpressions;
using SkiaSharp;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Plots;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// Every export format of one Xen-shaped session, each checked by the tool that defines or reads the format:
/// speedscope's own schema (ajv), pprof-format and go tool pprof, a Trace Event Format schema, headless chromium.
/// </summary>
[Collection(ExportCollection.Name)]
public sealed class ExportTests : IDisposable
{
    private readonly ExportSession _s = new();

    public void Dispose() => _s.Dispose();

    private string Write(FlameFormat format, string name, FlameExportOptions? options = null)
    {
        string path = _s.PathOf(name);
        using (var f = File.Create(path)) FlameExport.Write(_s.Source, format, f, options);
        return path;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Folded_has_process_roots_guest_prefixes_and_annotations_only_when_asked()
    {
        string plain = File.ReadAllText(Write(FlameFormat.Folded, "plain.folded"));
        string annotated = File.ReadAllText(Write(FlameFormat.Folded, "all.folded", new FlameExportOptions { Folded = new FoldedOptions { AnnotateKernel = true } }));
        Assert.DoesNotContain("_[", plain);
        Assert.Contains("server;libc_so_6_f10;server_f100;libc_so_6_f20;k_10 ", plain);
        Assert.Contains("batch_job;", plain); // spaces in comm become _, as stackcollapse-perf.pl does
        Assert.Contains("guest1;domain1-kernel:domain1-kernel_f1000;domain1-kernel:domain1-kernel_f2000 ", plain); // a passive domain: its name as root
        Assert.Contains("guest1;[domain1-apps] ", plain);
        Assert.Contains("swapper;k_20_[k];xen_0_[h] ", annotated);
        Assert.Contains("domain2-kernel:domain2-kernel_f1000_[g] ", annotated);
        // Counts are the summed periods by default, the sample counts with Weight = Samples.
        long clock = _s.Samples.Count(x => x.Event == _s.Clock.Id);
        static long Sum(string folded) => folded.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
        Assert.Equal(clock * (long)ExportSession.ClockPeriod, Sum(plain));
        Assert.Equal(clock, Sum(File.ReadAllText(Write(FlameFormat.Folded, "samples.folded", new FlameExportOptions { Weight = FoldedWeight.Samples }))));
    }

    [Theory]
    [InlineData(ImageKind.Kernel, "[kernel.kallsyms]", "schedule", FrameKind.Kernel)]
    [InlineData(ImageKind.KernelModule, "[e1000]", null, FrameKind.Kernel)]
    [InlineData(ImageKind.Vdso, "[vdso]", "__vdso_clock_gettime", FrameKind.Kernel)] // stackcollapse-perf.pl --kernel marks any [dso]
    [InlineData(ImageKind.Anonymous, "//anon", "Foo::Bar", FrameKind.Jit)]          // named through perf-PID.map
    [InlineData(ImageKind.Anonymous, "//anon", null, FrameKind.Unknown)]
    [InlineData(ImageKind.Unknown, "[unknown]", null, FrameKind.Unknown)]
    [InlineData(ImageKind.Elf, "/usr/lib/libc.so.6", "memcpy", FrameKind.User)]
    [InlineData(ImageKind.Hypervisor, "xen-syms", "do_softirq", FrameKind.Hypervisor)]
    [InlineData(ImageKind.KernelImage, "/boot/vmlinux-6.1", "schedule", FrameKind.Kernel)] // a kernel read from its file is kernel code
    public void Frame_kinds_follow_stackcollapse_rules(ImageKind kind, string path, string? symbol, FrameKind expected)
    {
        var image = new StoredImage(new ImageId(1), path, null, kind);
        string name = ProfileBuilder.DisplayName(image);
        Assert.Equal(expected, FrameKinds.Of(image, name, symbol, null));
        Assert.Equal(FrameKind.Guest, FrameKinds.Of(image, name, symbol, guestDomain: 3));
    }

    [Fact]
    public void Selection_filters_domain_pid_tid_event_and_window()
    {
        var src = _s.Source;
        long t0 = _s.Samples[0].TimeNs, t1 = _s.Samples[1000].TimeNs;
        var sel = new FlameSelection { Domain = 0, Pid = 100, Tid = 101, Event = "inst_retired", FromNs = t0, ToNs = t1 };
        var expected = _s.Samples.Where(x => x.Domain == 0 && x.Pid == 100 && x.Tid == 101 && x.Event == _s.Inst.Id && x.TimeNs >= t0 && x.TimeNs < t1).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, src.Samples(sel).ToList());
        Assert.Throws<XenProfUserException>(() => src.EventsOf(new FlameSelection { Event = "NOPE" }));
        var times = src.Samples(FlameSelection.All).Select(x => x.TimeNs).ToList();
        Assert.Equal(times.Order().ToList(), times);
    }

    [Fact]
    public void Passive_samples_are_selected_as_dom0s_and_shown_under_their_domain()
    {
        var g2 = _s.Store.InternFrame(_s.Store.InternImage("domain2-kernel", ImageKind.KernelImage, null, domain: 2), 0x1000);
        var stack = _s.Store.InternStack([g2]);
        var passive = new StoredSample(_s.Samples[^1].TimeNs + 1, 0, 2, 0, 0, _s.Clock.Id, stack, SampleMode.GuestKernel, 1);
        _s.Store.AddSample(passive);
        _s.Store.Commit();
        FlameSource Build(int? domain) => new(ProfileBuilder.Build(_s.Store, new ExportSession.FakeSymbolizer(), new ProfileOptions { Domain = domain, WithStacks = true, WithSamples = true }));
        var src = Build(0);
        // Selected as opreport selects it (a dom0 sample), shown under the domain it ran in.
        Assert.Contains(src.Samples(FlameSelection.All), x => x.TimeNs == passive.TimeNs && x.Domain == 2);
        Assert.Contains(src.Profile.StackTotals, t => t.Stack == stack && t.Domain == 2);
        Assert.DoesNotContain(Build(2).Samples(FlameSelection.All), x => x.TimeNs == passive.TimeNs);
        Assert.Contains(Build(null).Timeline(FlameSelection.All), d => d.Domain == 2 && d.Counts.Sum() == _s.Samples.Count(x => x.Domain == 2 && x.Event == _s.Clock.Id) + 1);
    }

    [NodeToolsFact]
    public void Speedscope_validates_against_speedscopes_schema_and_keeps_per_thread_counts()
    {
        string path = Write(FlameFormat.Speedscope, "profile.speedscope.json");
        var r = Json(ExternalTools.RunNode("check-speedscope.js", path));
        Assert.True(r.GetProperty("valid").GetBoolean(), r.GetProperty("errors").ToString());
        Assert.Equal(SpeedscopeWriter.SchemaUrl, r.GetProperty("schema").GetString());

        var clock = _s.Samples.Where(x => x.Event == _s.Clock.Id).ToList();
        var threads = clock.GroupBy(x => (x.Domain, x.Pid, x.Tid)).ToDictionary(g => $"[{_s.Source.DomainName(g.Key.Domain)} pid {g.Key.Pid} tid {g.Key.Tid}]", g => g.Count());
        var profiles = r.GetProperty("profiles").EnumerateArray().ToList();
        Assert.Equal(threads.Count, profiles.Count);
        foreach (var p in profiles)
        {
            string name = p.GetProperty("name").GetString()!;
            int n = threads.Single(t => name.EndsWith(t.Key, StringComparison.Ordinal)).Value;
            Assert.Equal("sampled", p.GetProperty("type").GetString());
            Assert.Equal("nanoseconds", p.GetProperty("unit").GetString());
            Assert.Equal(n, p.GetProperty("samples").GetInt32());
            Assert.Equal(n, p.GetProperty("weights").GetInt32());
            Assert.Equal(n * (double)ExportSession.ClockPeriod, p.GetProperty("weight").GetDouble());
            Assert.True(p.GetProperty("maxFrame").GetInt32() < r.GetProperty("frames").GetInt32());
        }
        Assert.Equal(clock.Count * (double)ExportSession.ClockPeriod, profiles.Sum(p => p.GetProperty("weight").GetDouble()));

        // Time order: the first profile's samples follow the session's order for that thread.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var first = doc.RootElement.GetProperty("profiles")[0];
        var frames = doc.RootElement.GetProperty("shared").GetProperty("frames");
        string firstName = first.GetProperty("name").GetString()!;
        var key = clock.GroupBy(x => (x.Domain, x.Pid, x.Tid)).Single(g => firstName.EndsWith($"[{_s.Source.DomainName(g.Key.Domain)} pid {g.Key.Pid} tid {g.Key.Tid}]", StringComparison.Ordinal));
        var leafNames = first.GetProperty("samples").EnumerateArray().Select(s => frames[s[s.GetArrayLength() - 1].GetInt32()].GetProperty("name").GetString()!).ToList();
        Assert.Equal(key.Select(x => _s.Source.StackOf(x.Stack)[^1].Name).ToList(), leafNames);
    }

    [NodeToolsFact]
    public void Pprof_decodes_with_pprof_format_and_totals_match_the_session()
    {
        string path = Write(FlameFormat.Pprof, "profile.pb.gz");
        var r = Json(ExternalTools.RunNode("check-pprof.js", path));
        Assert.Equal("", r.GetProperty("firstString").GetString());
        Assert.False(r.GetProperty("dangling").GetBoolean());
        Assert.Equal(["samples/count", "CPU_CLOCK/nanoseconds", "INST_RETIRED/count"], r.GetProperty("sampleTypes").EnumerateArray().Select(x => x.GetString()!).ToArray());
        long clock = _s.Samples.Count(x => x.Event == _s.Clock.Id), inst = _s.Samples.Count(x => x.Event == _s.Inst.Id);
        var totals = r.GetProperty("totals").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        Assert.Equal([clock + inst, clock * (long)ExportSession.ClockPeriod, inst * (long)ExportSession.InstPeriod], totals);
        Assert.Equal(["cpu", "domain", "pid", "process", "thread", "tid"], r.GetProperty("labelKeys").EnumerateArray().Select(x => x.GetString()!).ToArray());
        Assert.Equal(_s.Samples.Count(x => x.Domain == 1), r.GetProperty("byDomain").GetProperty("1").GetInt64());
        Assert.Equal(_s.Samples[^1].TimeNs - _s.Samples[0].TimeNs, r.GetProperty("durationNanos").GetInt64());
        var server = r.GetProperty("mappings").EnumerateArray().Single(m => m.GetProperty("file").GetString() == "/usr/bin/server");
        Assert.Equal("0123456789abcdef", server.GetProperty("buildId").GetString());
        Assert.Equal(0x100, server.GetProperty("start").GetInt64());
        Assert.Equal(0x99a, server.GetProperty("limit").GetInt64());
        Assert.Contains("domain1-kernel:domain1-kernel_f2000", r.GetProperty("functions").EnumerateArray().Select(x => x.GetString()));
    }

    [GoFact]
    public void Pprof_reads_with_go_tool_pprof_raw_and_top()
    {
        string path = Write(FlameFormat.Pprof, "profile.pb.gz", new FlameExportOptions { Selection = new FlameSelection { Domain = 0 } });
        var goEnv = new[] { "tool", "pprof" };
        var (code, raw, err) = ExternalTools.Run(ExternalTools.Go!, [.. goEnv, "-raw", path]);
        Assert.True(code == 0, err);
        Assert.Matches(@"samples/count CPU_CLOCK/nanoseconds(\[dflt\])? INST_RETIRED/count", raw);
        long[] sums = new long[3];
        foreach (Match m in Regex.Matches(raw, @"^\s+(\d+)\s+(\d+)\s+(\d+):", RegexOptions.Multiline))
            for (int i = 0; i < 3; i++) sums[i] += long.Parse(m.Groups[i + 1].Value);
        var dom0 = _s.Samples.ToList(); // domains 1 and 2 are passive: dom0's report holds them
        long clock = dom0.Count(x => x.Event == _s.Clock.Id), inst = dom0.Count(x => x.Event == _s.Inst.Id);
        Assert.Equal([clock + inst, clock * (long)ExportSession.ClockPeriod, inst * (long)ExportSession.InstPeriod], sums);

        (code, string top, err) = ExternalTools.Run(ExternalTools.Go!, [.. goEnv, "-top", "-sample_index=samples", path]);
        Assert.True(code == 0, err);
        Assert.Contains($"of {clock + inst} total", top);
        Assert.Contains("server_f200", top);
    }

    [NodeToolsFact]
    public void Chrome_trace_passes_the_schema_check_and_has_one_event_per_selected_sample()
    {
        string schema = Path.Combine(AppContext.BaseDirectory, "Data", "chrome", "trace-event-format.schema.json");
        foreach (var (sel, name) in new[] { (FlameSelection.All, "all"), (new FlameSelection { Domain = 0 }, "dom0"), (new FlameSelection { Pid = 100, Event = "CPU_CLOCK" }, "pid100") })
        {
            string path = Write(FlameFormat.Chrome, name + ".trace.json", new FlameExportOptions { Selection = sel });
            var r = Json(ExternalTools.RunNode("check-schema.js", schema, path));
            Assert.True(r.GetProperty("valid").GetBoolean(), name + ": " + r.GetProperty("errors"));
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
            int expected = _s.Source.Samples(sel).Count();
            Assert.Equal(expected, events.Count(e => e.GetProperty("ph").GetString() == "X"));
            var frames = doc.RootElement.GetProperty("stackFrames");
            foreach (var e in events.Where(e => e.GetProperty("ph").GetString() == "X"))
                Assert.True(frames.TryGetProperty(e.GetProperty("sf").GetString()!, out _));
            // One process track per (domain, pid), one thread track per (domain, tid), named.
            var procs = _s.Source.Samples(sel).Select(x => ChromeTraceWriter.TrackId(x.Domain, x.Pid)).Distinct().Count();
            Assert.Equal(procs, events.Count(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "process_name"));
            var thr = _s.Source.Samples(sel).Select(x => ChromeTraceWriter.TrackId(x.Domain, x.Tid)).Distinct().Count();
            Assert.Equal(thr, events.Count(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name"));
        }
    }

    [Fact]
    public void Png_plots_are_non_blank_with_the_asked_dimensions()
    {
        var options = new FlameExportOptions { PngSize = (900, 500) };
        string top = Write(FlameFormat.Png, "top.png", options);
        string timeline = _s.PathOf("timeline.png");
        using (var f = File.Create(timeline)) PlotWriter.WriteTimeline(_s.Source, f, options);
        foreach (var path in new[] { top, timeline })
        {
            using var bmp = SKBitmap.Decode(path);
            Assert.Equal(900, bmp.Width);
            Assert.Equal(500, bmp.Height);
            var colours = new HashSet<uint>();
            for (int y = 0; y < bmp.Height; y += 3)
                for (int x = 0; x < bmp.Width; x += 3)
                    colours.Add((uint)bmp.GetPixel(x, y));
            Assert.True(colours.Count > 20, $"{Path.GetFileName(path)} looks blank: {colours.Count} colours");
            File.Copy(path, Path.Combine(ExternalTools.ArtifactDir(), Path.GetFileName(path)), overwrite: true);
        }
    }

    [ChromiumExportFact]
    public void Svg_loads_in_chromium_draws_every_frame_and_search_highlights()
    {
        var svgOptions = new SvgFlameOptions { MinWidthPx = 0.1 };
        var stacks = _s.Source.FlameStacks(FlameSelection.All);
        var tree = FlameTree.Build(stacks);
        int drawn = SvgFlameGraph.CountDrawnFrames(tree, svgOptions);
        long total = stacks.Sum(x => x.Count);
        long through = stacks.Where(x => x.Frames.Any(f => f.Name == "server_f100")).Sum(x => x.Count);
        int nodes = tree.Nodes().Count(n => n.Name == "server_f100");

        Write(FlameFormat.Svg, "flame.svg", new FlameExportOptions { Svg = svgOptions });
        var r = ExternalTools.RunFlameHarness(_s.Dir, "flame.svg", "^server_f100$");
        Assert.Equal(drawn, r.GetProperty("frames").GetInt32());
        Assert.Equal(100.0 * through / total, r.GetProperty("match").GetDouble(), 6);
        Assert.Equal(nodes, r.GetProperty("highlighted").GetInt32());
        ExternalTools.Screenshot(_s.Dir, "flame.svg", Path.Combine(ExternalTools.ArtifactDir(), "flame.svg.png"));
    }

    [Theory]
    [InlineData("ns", 1_000_000UL, 1_000_000L, true, "nanoseconds", "ns")]
    [InlineData("ns", 0UL, 1L, true, "nanoseconds", "ns")]
    [InlineData("instructions", 100_000UL, 100_000L, false, "count", "events")]
    public void Event_period_names_the_unit_periods_are_in(string unit, ulong count, long value, bool time, string pprof, string countName)
    {
        var p = EventPeriod.Of(new StoredEvent("E", 1, 0, count, 0, true, true, unit, ""));
        Assert.Equal(new EventPeriod(value, time), p);
        Assert.Equal(pprof, p.PprofUnit);
        Assert.Equal(countName, p.CountName);
    }

    /// <summary>html is the browser report, written from the session directory (OfflineReportTests check its content).</summary>
    [Fact]
    public void Html_is_not_a_flame_source_export()
    {
        var e = Assert.Throws<ArgumentException>(() => Write(FlameFormat.Html, "report.html"));
        Assert.Contains("OfflineReport", e.Message);
    }
}
