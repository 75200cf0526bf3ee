using XenProf.Hypervisor.Xenoprof;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text;
using XenProf.Reporter.Xen;
using XenProf.Sampler.Session;
using XenProf.Sampler.Xenoprof;
using Xunit;

namespace XenProf.Reporter.Tests.Xen;

/// <summary>A fact that needs Debian's Xen 4.17 xen-syms in the cache (.ci/run fetches it); skipped with the reason otherwise.</summary>
public sealed class XenSymsFactAttribute : FactAttribute
{
    public XenSymsFactAttribute()
    {
        if (XenSymsCache.TryFind() == null)
            Skip = $"xen-syms not cached at {XenSymsCache.ImagePath}; run .ci/run or 'apt-get download {XenSymsCache.Package}' + 'dpkg -x' into {XenSymsCache.Folder}/root";
        else if (!KallsymsReadable())
            Skip = "/proc/kallsyms shows no addresses (kptr_restrict or not root); the scenario's kernel functions cannot be placed";
    }

    internal static bool KallsymsReadable()
    {
        try { return File.ReadLines("/proc/kallsyms").Take(50).Any(l => !l.StartsWith("0000000000000000", StringComparison.Ordinal)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

/// <summary>Whole emulated Xen sessions are CPU-heavy: run them alone so timing-sensitive tests elsewhere keep their CPU.</summary>
[CollectionDefinition("Xen sessions", DisableParallelization = true)]
public sealed class XenSessionsCollection;

[Collection("Xen sessions")]
public sealed class XenReportTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xenprof-xenrep-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string RepoFile(string rel)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, rel))) return Path.Combine(d.FullName, rel);
        throw new FileNotFoundException(rel);
    }

    private (SessionDirectory Dir, XenRunResult Result) Run(ResolvedScenario s, XenSessionOptions o, string name)
    {
        var dir = new SessionDirectory(Path.Combine(_root, name));
        Directory.CreateDirectory(dir.Path);
        using var xen = new EmulatedHypervisor(s, Path.Combine(dir.Path, "buffers.bin"));
        return (dir, XenSession.RunEmulated(dir, o, xen));
    }

    [Fact]
    public void OverflowShowsTheLostCountInTheReportHeader()
    {
        var src = new Scenario { Name = "overflow", Seed = 16, Pcpus = 1, CpuMhz = 1000, Count = 100_000, DurationMs = 100, DrainIntervalUs = 1000 };
        var d0 = new ResolvedDomain(0, "Domain-0", 1, [], 1.0,
            [new ResolvedFunction("do_grant_table_op", "xen", XenoprofMode.Xen, 0xffff82d040215870, 0xffff82d040215a00, 1, [])], []);
        var (dir, r) = Run(new ResolvedScenario(src, [d0], new Dictionary<string, string>()), new XenSessionOptions(), "overflow");
        var lost = r.Written[0].LostSamples;
        Assert.True(lost > 0);
        var p = SessionProfiles.Load(dir.Path, new ProfileOptions { Domain = 0 });
        var w = new StringWriter();
        OpreportWriter.Write(p, w, new OpreportOptions());
        var text = w.ToString();
        Assert.Contains($"Xen domain 0 (active): samples written {r.Written[0].Written} (xen {r.Written[0].Written}, kernel 0, user 0), lost samples {lost}, corrupted buffer reads 0", text);
        Assert.Contains($"Xen counters: total samples {r.Global.Total}, active {r.Global.Active}, passive 0, lost {lost}, invalid buffer 0, corrupted buffer 0", text);
        Assert.Contains("no-xen", text); // no --xen: Xen samples go to the pseudo image, as oprofile names it
        Assert.Equal((long)r.Written[0].Written, XenModeTotals.FromReport(p, 0, passive: false).Xen);
    }

    [Fact]
    public void OverflowScenarioFileParses()
    {
        var s = Scenario.Load(RepoFile("samples/scenarios/overflow-16.json"));
        Assert.Equal("overflow-16", s.Name);
        var summit = Scenario.Load(RepoFile("samples/scenarios/xen-summit-2006.json"));
        Assert.Equal([0, 1, 2, 3], summit.Domains.Select(d => d.Id));
    }

    [Theory]
    [InlineData("{ \"domains\": [] }", "no domains")]
    [InlineData("{ \"domains\": [ { \"id\": 1 } ] }", "domain 0 is missing")]
    [InlineData("{ \"domains\": [ { \"id\": 0, \"workload\": [ { \"function\": \"f\", \"image\": \"nope\", \"weight\": 1 } ] } ] }", "unknown image 'nope'")]
    [InlineData("{ \"pcpus\": 1, \"domains\": [ { \"id\": 0, \"pcpus\": [3] } ] }", "pcpu 3 does not exist")]
    [InlineData("{ \"domains\": [ { \"id\": 0 ", "line 1: scenario JSON at $.domains[0]")]
    [InlineData("{\n  \"pcpus\": 99999999999,\n  \"domains\": [ { \"id\": 0 } ] }", "line 2: scenario JSON at $.pcpus")]
    [InlineData("{ \"pcpus\": 100000, \"domains\": [ { \"id\": 0 } ] }", "scenario $.pcpus: 100000 is out of range (1..4096)")]
    [InlineData("{ \"domains\": [ { \"id\": 0, \"busy\": 1.5 } ] }", "scenario $.domains[0].busy: 1.5 is out of range (0..1)")]
    [InlineData("{ \"domains\": [ { \"id\": 40000 } ] }", "scenario $.domains[0].id: 40000 is out of range")]
    [InlineData("{ \"domains\": [ null ] }", "scenario $.domains[0]: a domain cannot be null")]
    [InlineData("{ \"duration_ms\": -5, \"domains\": [ { \"id\": 0 } ] }", "scenario $.duration_ms: -5 is out of range")]
    public void BadScenariosAreRefusedWithTheReason(string json, string message)
    {
        var e = Assert.Throws<XenProf.Hypervisor.Binary.MalformedDataException>(() => Scenario.Parse(json, "bad.json"));
        Assert.StartsWith("bad.json: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    // Golden report of the Xen Summit scenario cut to 200 ms: the seed fixes every count; names come from the real
    // Xen 4.17 image, this machine's kernel and python3.11. XENPROF_UPDATE_GOLDEN=1 rewrites the file.
    [XenSymsFact]
    public void SummitReportMatchesGolden()
    {
        var scenario = Scenario.Load(RepoFile("samples/scenarios/xen-summit-2006.json")) with { DurationMs = 200 };
        var resolved = ScenarioResolver.Resolve(scenario, ImageSymbolTable.Open);
        var xenSyms = XenSymsCache.TryFind()!;
        var text = new StringWriter();
        var (active, _) = Run(resolved, new XenSessionOptions { XenImage = xenSyms, ActiveDomains = [1, 3], CallgraphDepth = 2 }, "g-active");
        var (passive, _) = Run(resolved, new XenSessionOptions { XenImage = xenSyms, PassiveDomains = [1, 3], PassiveImages = ["/proc/kallsyms", "/proc/kallsyms"], CallgraphDepth = 2 }, "g-passive");
        foreach (var (dir, label) in new[] { (active, "active"), (passive, "passive") })
            foreach (var (id, name, p) in XenDomainReports.LoadAll(dir.Path))
            {
                text.WriteLine($"==== {label} session, domain {id} ({name}) ====");
                OpreportWriter.Write(p, text, new OpreportOptions { Symbols = true, ErrorBars = false });
            }
        var golden = "opreport.symbols.summit-200ms.txt";
        var actual = text.ToString().Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("XENPROF_UPDATE_GOLDEN") == "1")
        {
            var src = Path.Combine(Path.GetDirectoryName(RepoFile("tests/Reporter.Tests/Reporter.Tests.csproj"))!, "Data", "xen", golden);
            Directory.CreateDirectory(Path.GetDirectoryName(src)!);
            File.WriteAllText(src, actual);
            return;
        }
        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "xen", golden));
        Assert.Equal(expected, actual);
    }

    [XenSymsFact]
    public void XenSymsResolvesRealXen417FunctionsBothWays()
    {
        using var t = ImageSymbolTable.Open(XenSymsCache.TryFind()!);
        Assert.True(t.IsElf);
        foreach (var name in new[] { "do_grant_table_op", "evtchn_send", "do_xenoprof_op", "csched_schedule" })
        {
            var (start, end) = t.Lookup(name)!.Value;
            Assert.True(start >= 0xffff82d040000000UL && end > start);
            Assert.Equal(name, t.Find(start + (end - start) / 2)!.Value.Name);
        }
        Assert.Null(t.Lookup("no_such_function_in_xen"));
    }

    [XenSymsFact]
    public void SummitScenarioReportsXenNamesAndPassiveImagesAndReconciles()
    {
        var scenario = Scenario.Load(RepoFile("samples/scenarios/xen-summit-2006.json")) with { DurationMs = 200 };
        var resolved = ScenarioResolver.Resolve(scenario, ImageSymbolTable.Open);
        var xenSyms = XenSymsCache.TryFind()!;

        var (active, ar) = Run(resolved, new XenSessionOptions { XenImage = xenSyms, ActiveDomains = [1, 3], CallgraphDepth = 2 }, "active");
        foreach (var d in new[] { 0, 1, 3 })
        {
            var p = SessionProfiles.Load(active.Path, new ProfileOptions { Domain = d });
            var h = ar.Written[d];
            Assert.Equal(new XenModeTotals((long)h.XenSamples, (long)h.KernelSamples, (long)h.UserSamples), XenModeTotals.FromReport(p, d, passive: false));
            Assert.All(p.Symbols.Where(s => s.ImageRow.Image.Kind == Sampler.Store.ImageKind.Hypervisor), s => Assert.NotEqual(Profile.Profile.NoSymbols, s.Symbol));
        }
        var dom0 = SessionProfiles.Load(active.Path, new ProfileOptions { Domain = 0 });
        Assert.Contains(dom0.Symbols, s => s.ImageRow.Name == "xen-syms-4.17-amd64" && s.Symbol == "do_grant_table_op");

        var (passive, pr) = Run(resolved, new XenSessionOptions { XenImage = xenSyms, PassiveDomains = [1, 3], PassiveImages = ["/proc/kallsyms", "/proc/kallsyms"] }, "passive");
        var report = SessionProfiles.Load(passive.Path, new ProfileOptions { Domain = 0 });
        foreach (var d in new[] { 1, 3 })
        {
            var h = pr.Written[d];
            Assert.Equal(new XenModeTotals((long)h.XenSamples, (long)h.KernelSamples, (long)h.UserSamples), XenModeTotals.FromReport(report, d, passive: true));
            Assert.Contains(report.Symbols, s => s.ImageRow.Name == $"domain{d}-kernel" && s.Symbol is "tcp_sendmsg" or "tcp_recvmsg");
            Assert.Contains(report.Symbols, s => s.ImageRow.Name == $"domain{d}-xen" && s.Symbol is "do_grant_table_op" or "evtchn_send");
            Assert.Contains(report.Symbols, s => s.ImageRow.Name == $"domain{d}-apps" && s.Symbol == Profile.Profile.NoSymbols);
        }
        Assert.Empty(SessionProfiles.Load(passive.Path, new ProfileOptions { Domain = 1 }).Images);
    }
}
