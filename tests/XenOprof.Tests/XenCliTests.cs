using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>A fact that needs the cached Xen 4.17 xen-syms and readable kallsyms (CI fetches and runs as root); skipped with the reason otherwise.</summary>
public sealed class XenSymsFactAttribute : FactAttribute
{
    public XenSymsFactAttribute()
    {
        if (XenProf.Sampler.Xenoprof.XenSymsCache.TryFind() == null)
            Skip = $"xen-syms not cached at {XenProf.Sampler.Xenoprof.XenSymsCache.ImagePath}; .ci/run fetches it";
        else if (!File.ReadLines("/proc/kallsyms").Take(50).Any(l => !l.StartsWith("0000000000000000", StringComparison.Ordinal)))
            Skip = "/proc/kallsyms shows no addresses (kptr_restrict or not root)";
    }
}

/// <summary>The Xen verbs end to end as separate processes.</summary>
/// <summary>Whole emulated Xen sessions are CPU-heavy: run them alone so timing-sensitive tests elsewhere keep their CPU.</summary>
[CollectionDefinition("Xen sessions", DisableParallelization = true)]
public sealed class XenSessionsCollection;

[Collection("Xen sessions")]
public sealed class XenCliTests(ITestOutputHelper output)
{
    [XenSymsFact]
    public void DemoPrintsPerDomainReportsWithRealXenNamesPassiveImagesAndReconciledTotals()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var r = Cli.Run("demo", "--output", dir, "--top", "0");
            output.WriteLine(r.Stdout + r.Stderr);
            Assert.Equal(0, r.ExitCode);
            var o = r.Stdout;
            foreach (var d in new[] { 0, 1, 3 }) Assert.Contains($"$ xenoprof opreport --domain={d} --session-dir=", o);
            Assert.Matches(new Regex(@"^\d+\s+[\d.]+\s+[\d.]+\s+xen-syms-4\.17-amd64\s+do_grant_table_op$", RegexOptions.Multiline), o);
            Assert.Matches(new Regex(@"^\d+\s+[\d.]+\s+[\d.]+\s+domain1-xen\s+\w+$", RegexOptions.Multiline), o);
            Assert.Matches(new Regex(@"^\d+\s+[\d.]+\s+[\d.]+\s+domain1-kernel\s+tcp_\w+$", RegexOptions.Multiline), o);
            Assert.Matches(new Regex(@"^\d+\s+[\d.]+\s+[\d.]+\s+domain1-apps\s+\(no symbols\)$", RegexOptions.Multiline), o);
            Assert.Contains("lost samples", o);
            Assert.Equal(6, Regex.Matches(o, "reconcile domain .*: equal").Count);
            Assert.DoesNotContain("MISMATCH", o);
            Assert.Contains("all totals reconcile with the emulator's counters", o);
            foreach (var f in new[] { "active/flame-domain0.svg", "active/flame-domain1.svg", "active/flame-domain3.svg", "passive/flame-domain0.svg" })
                Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 1000, f);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [XenSymsFact]
    public void OpcontrolDrivesAnEmulatedXenSessionAcrossProcesses()
    {
        var dir = Cli.NewSessionDir();
        var scenario = DemoScenario();
        try
        {
            var sd = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon", $"--hypervisor=emulated:{scenario}", "--active-domains=1", "--passive-domains=3", "--passive-images=/proc/kallsyms");
            output.WriteLine(sd.Stdout + sd.Stderr);
            Assert.Equal(0, sd.ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--start").ExitCode);
            Thread.Sleep(700);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--stop").ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--shutdown").ExitCode);
            var rep = Cli.Run("opreport", "--session-dir", dir, "--domain=all", "-l");
            output.WriteLine(rep.Stdout + rep.Stderr);
            Assert.Equal(0, rep.ExitCode);
            Assert.Contains("==== domain 0 (Domain-0) ====", rep.Stdout);
            Assert.Contains("==== domain 1 (guest1) ====", rep.Stdout);
            Assert.DoesNotContain("==== domain 3", rep.Stdout); // passive: inside domain 0
            Assert.Contains("domain3-kernel", rep.Stdout);
            Assert.Contains("Xen domain 3 (passive", rep.Stdout);
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(new[] { "opcontrol", "--start-daemon", "--hypervisor=privcmd" }, "not a Xen dom0")]
    [InlineData(new[] { "opcontrol", "--start-daemon", "--hypervisor=bogus" }, "expected emulated:SCENARIO.json or privcmd")]
    [InlineData(new[] { "opcontrol", "--start-daemon", "--active-domains=1" }, "need --hypervisor")]
    [InlineData(new[] { "opcontrol", "--start-daemon", "--hypervisor=emulated:/nonexistent.json" }, "not found")]
    [InlineData(new[] { "demo", "--scenario", "/nonexistent.json" }, "cannot read scenario")]
    [InlineData(new[] { "opreport", "--domain=x" }, "expected a domain id or 'all'")]
    public void XenMistakesGiveOneLineErrors(string[] args, string message)
    {
        var dir = Cli.NewSessionDir();
        try
        {
            string[] full = args[0] == "demo" ? args : [.. args, "--session-dir", dir];
            var r = Cli.Run(full);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    private static string DemoScenario()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "samples/scenarios/xen-summit-2006.json");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("xen-summit-2006.json");
    }
}
