using XenProf.Hypervisor.Xenoprof;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text;
using XenProf.Sampler.Session;
using XenProf.Sampler.Xenoprof;

using XenProf.Reporter.Xen;

namespace XenProf.Cli.Demo;

/// <summary>Options of <see cref="XenDemo.Run"/>.</summary>
internal sealed record XenDemoOptions
{
    /// <summary>Scenario file.</summary>
    public required string Scenario { get; init; }
    /// <summary>Folder for the two session directories and the flame graphs.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>Call-chain depth for both sessions.</summary>
    public int CallgraphDepth { get; init; } = 4;
    /// <summary>Print <c>opreport -l</c> as well as the image summary.</summary>
    public bool Symbols { get; init; } = true;
    /// <summary>Symbol rows shown per domain in <c>opreport -l</c> (0 = all).</summary>
    public int TopSymbols { get; init; } = 15;
}

/// <summary>
/// The Xen Summit 2006 workflow in one call (the tutorial "Profiling in Xen", with oprofile's opcontrol(1)): an active-domain session (dom0 plus the scenario's
/// other profiled guests, each reported as its own domain), then a passive-domain session (the guests reported
/// inside dom0's report as <c>domainN-kernel</c>, <c>domainN-xen</c>, <c>domainN-apps</c>, guest kernels resolved from
/// the passive image). For each: opreport and opreport -l per domain, a flame graph per domain, and the check that
/// every domain's reported samples per mode equal what the emulated Xen wrote into its buffers.
/// </summary>
internal static class XenDemo
{
    /// <summary>
    /// Runs the demo, printing reports to <paramref name="output"/> and progress (fetching xen-syms, session runs and
    /// their timing) to <paramref name="progress"/>. Returns true when every total reconciles.
    /// </summary>
    public static bool Run(XenDemoOptions options, TextWriter output, TextWriter? progress = null)
    {
        progress ??= TextWriter.Null;
        var scenario = Scenario.Load(options.Scenario);
        var resolved = ScenarioResolver.Resolve(scenario, ImageSymbolTable.Open, log: progress);
        var xenSyms = resolved.ImagePaths.Values.FirstOrDefault(p => p.Contains("xen-syms", StringComparison.Ordinal));
        var kernel = resolved.ImagePaths.Where(kv => scenario.Images[kv.Key].Kind == ScenarioImageKind.Kernel).Select(kv => kv.Value).FirstOrDefault();
        var guests = scenario.Domains.Where(d => d.Id != 0 && d.Profiled).Select(d => d.Id).ToList();
        Directory.CreateDirectory(options.OutputDirectory);
        output.WriteLine($"xenoprof demo: scenario {scenario.Name} (seed {scenario.Seed}), Xen image {xenSyms ?? "(none)"}");
        bool ok = true;

        var activeDir = new SessionDirectory(Path.Combine(options.OutputDirectory, "active"));
        var activeOpts = new XenSessionOptions { XenImage = xenSyms, ActiveDomains = guests, CallgraphDepth = options.CallgraphDepth };
        ok &= RunSession("Active-domain profiling", activeDir, activeOpts, resolved, [0, .. guests], [], options, output, progress);

        var passiveDir = new SessionDirectory(Path.Combine(options.OutputDirectory, "passive"));
        var passiveImages = guests.Select(_ => kernel != null ? Path.Combine(passiveDir.Path, "kallsyms") : "").Where(p => p.Length > 0).ToList();
        var passiveOpts = new XenSessionOptions { XenImage = xenSyms, PassiveDomains = guests, PassiveImages = passiveImages, CallgraphDepth = options.CallgraphDepth };
        ok &= RunSession("Passive-domain profiling", passiveDir, passiveOpts, resolved, [0], guests, options, output, progress);
        output.WriteLine(ok ? "xenoprof demo: all totals reconcile with the emulator's counters" : "xenoprof demo: TOTALS DO NOT RECONCILE");
        return ok;
    }

    private static bool RunSession(string title, SessionDirectory dir, XenSessionOptions opts, ResolvedScenario scenario,
        IReadOnlyList<int> reported, IReadOnlyList<int> passive, XenDemoOptions demo, TextWriter output, TextWriter progress)
    {
        output.WriteLine();
        output.WriteLine($"==== {title}: opcontrol --xen=XEN-SYMS" + (opts.ActiveDomains.Count > 0 ? $" --active-domains={string.Join(",", opts.ActiveDomains)}" : "")
            + (passive.Count > 0 ? $" --passive-domains={string.Join(",", passive)} --passive-images=<kallsyms>" : "")
            + $" --callgraph={opts.CallgraphDepth} --hypervisor=emulated:{scenario.Source.Name} ====");
        XenRunResult result;
        Directory.CreateDirectory(dir.Path);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var xen = new EmulatedHypervisor(scenario, Path.Combine(dir.Path, "xenoprof-buffers.bin")))
        {
            result = XenSession.RunEmulated(dir, opts, xen, progress);
        }
        progress.WriteLine($"session: {result.Stored.Values.Sum(a => a.Sum())} samples stored in {clock.ElapsedMilliseconds} ms ({result.Global.Total} counter overflows emulated)");
        bool ok = true;
        foreach (var d in reported)
        {
            var report = SessionProfiles.Load(dir.Path, new ProfileOptions { Domain = d, WithStacks = true });
            output.WriteLine();
            output.WriteLine($"$ xenoprof opreport --domain={d} --session-dir={dir.Path}");
            OpreportWriter.Write(report, output, new OpreportOptions());
            foreach (var warning in report.Warnings) progress.WriteLine("xenoprof demo: warning: " + warning);
            if (demo.Symbols)
            {
                output.WriteLine();
                output.WriteLine($"$ xenoprof opreport -l --domain={d} --no-header | head -{demo.TopSymbols + 1}");
                var sw = new StringWriter();
                OpreportWriter.Write(report, sw, new OpreportOptions { Symbols = true, NoHeader = true });
                var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                foreach (var l in demo.TopSymbols > 0 ? lines.Take(demo.TopSymbols + 1) : lines) output.WriteLine(l);
            }
            var flame = Path.Combine(dir.Path, $"flame-domain{d}.svg");
            using (var w = new StreamWriter(flame))
                SvgFlameGraph.Write(new FlameSource(report).FlameStacks(FlameSelection.All), w, new SvgFlameOptions { Title = $"{scenario.Source.Name}: domain {d}", Subtitle = $"{report.Totals.Sum()} samples" });
            output.WriteLine($"flame graph: {flame}");
            foreach (var dom in d == 0 ? [0, .. passive] : new[] { d })
                ok &= Reconcile(report, dom, passive.Contains(dom), result, output);
        }
        return ok;
    }

    private static bool Reconcile(XenProf.Reporter.Profile.Profile report, int domain, bool passive, XenRunResult result, TextWriter output)
    {
        var h = result.Written.GetValueOrDefault(domain);
        var written = new XenModeTotals((long)h.XenSamples, (long)h.KernelSamples, (long)h.UserSamples);
        var shown = XenModeTotals.FromReport(report, domain, passive);
        bool ok = written == shown;
        output.WriteLine($"reconcile domain {domain}{(passive ? " (passive)" : "")}: Xen wrote {written.Total} ({written}), lost {h.LostSamples}; report shows {shown.Total} ({shown}): {(ok ? "equal" : "MISMATCH")}");
        return ok;
    }
}
