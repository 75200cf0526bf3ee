using System.Globalization;
using XenProf.Hypervisor.Events;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Xenoprof;

/// <summary>Outcome of an emulated Xen session: the emulator's counters next to what the daemon stored.</summary>
/// <param name="StorePath">The session store.</param>
/// <param name="Global">Xen's global counters (exposed by the emulator).</param>
/// <param name="Written">Per profiled domain, the samples its buffers' headers count (xen, kernel, user) and lost.</param>
/// <param name="Stored">Per profiled domain, samples stored by mode (index = xenoprof mode 0 user, 1 kernel, 2 Xen).</param>
public sealed record XenRunResult(string StorePath, XenoprofGlobalCounters Global, IReadOnlyDictionary<int, XenoprofBufHeader> Written,
    IReadOnlyDictionary<int, long[]> Stored);

/// <summary>
/// Runs a whole xenoprof session against an <see cref="EmulatedHypervisor"/> into a session directory: the daemon
/// sets up in Xen's order, starts, then simulated time advances in steps of the scenario's drain interval; after each
/// step the VCPUs that got VIRQ_XENOPROF are drained (a VIRQ on dom0 drains the passive buffers too, as the dom0
/// driver does) and every 10 ms of simulated time all buffers are drained on a timer; then stop, final drain, teardown.
/// </summary>
public static class XenSession
{
    /// <summary>Simulated time between timer drains of every buffer.</summary>
    public const long TimerDrainNs = 10_000_000;

    /// <summary>
    /// Runs the session. <paramref name="options"/>' events default to the scenario's event and count.
    /// Throws <see cref="XenoprofException"/> when an op fails, <see cref="ArgumentException"/> for bad options.
    /// </summary>
    public static XenRunResult RunEmulated(SessionDirectory dir, XenSessionOptions options, EmulatedHypervisor xen, TextWriter? log = null)
    {
        options.Validate();
        var scenario = xen.Scenario;
        foreach (var d in options.ActiveDomains.Concat(options.PassiveDomains))
            if (!scenario.Domains.Any(x => x.Id == d)) throw new ArgumentException($"domain {d} does not exist in scenario {scenario.Source.Name} (domains {string.Join(", ", scenario.Domains.Select(x => x.Id))})");
        dir.EnsureWritable();
        dir.SnapshotKernelSymbols();
        var specs = options.Events.Count > 0 ? options.Events : [$"{scenario.Source.Event}:{scenario.Source.Count}"];
        using var store = SessionStore.Create(dir.StorePath);
        var events = new List<EventId>();
        var counters = new List<(ulong, bool, bool, uint, uint)>();
        foreach (var s in specs)
        {
            var spec = EventSpec.Parse(s);
            if (!EventCatalogue.TryFind(spec.Name, out var def)) throw new FormatException($"unknown event {spec.Name}; see 'xenoprof list-events'");
            ulong count = spec.Count ?? def.DefaultCount;
            events.Add(store.AddEvent(new StoredEvent(def.Name, (uint)def.Type, def.Config, count, spec.UnitMask, spec.Kernel, spec.User, def.Unit, def.Description)).Id);
            counters.Add((count, spec.Kernel, spec.User, spec.UnitMask, (uint)def.Config));
        }
        foreach (var d in scenario.Domains) store.SetDomain(d.Id, d.Name);
        var guests = new Dictionary<int, IXenoprofHypercalls>();
        foreach (var d in options.ActiveDomains.Where(d => d != 0)) guests[d] = xen.Connect(d);
        var processes = new Dictionary<int, IReadOnlyList<GuestProcess>>();
        foreach (var d in scenario.Domains.Where(d => d.Id == 0 || options.ActiveDomains.Contains(d.Id)))
        {
            processes[d.Id] = d.Processes;
            foreach (var p in d.Processes)
            {
                store.SetProcess(d.Id, p.Pid, 0, p.Comm);
                store.SetThread(d.Id, p.Pid, p.Pid, p.Comm);
                store.AddMapping(d.Id, p.Pid, store.InternImage(p.Path, ImageKind.Elf, null), p.Start, p.End, p.Pgoff, 0);
            }
        }
        using var primary = xen.Connect(0);
        var source = new XenoprofSampleSource(store, options, primary, guests, events, processes);
        source.Setup(counters);
        WriteMeta(store, options, scenario, source.CpuType);
        store.Commit();
        log?.WriteLine($"xenoprof: {scenario.Source.Name}: active domains {string.Join(",", new[] { 0 }.Concat(options.ActiveDomains))}"
            + (options.PassiveDomains.Count > 0 ? $", passive domains {string.Join(",", options.PassiveDomains)}" : "")
            + $", {specs[0]}, {scenario.Source.DurationMs} ms simulated on {scenario.Source.Pcpus} CPUs");
        source.Start();
        long step = (long)scenario.Source.DrainIntervalUs * 1000, nextTimer = xen.NowNs + TimerDrainNs, end = xen.NowNs + xen.DurationNs;
        while (xen.NowNs < end)
        {
            xen.Advance(Math.Min(end, xen.NowNs + step));
            var virqs = xen.TakePendingVirqs();
            if (virqs.Any(v => v.Domain == 0) || xen.NowNs >= nextTimer)
            {
                source.DrainAll(xen.NowNs);
                if (xen.NowNs >= nextTimer) { nextTimer += TimerDrainNs; store.Commit(); }
            }
            else foreach (var (d, v) in virqs) source.DrainVcpu(d, v, xen.NowNs);
        }
        source.Stop(xen.NowNs);
        xen.TakePendingVirqs();
        source.Shutdown();
        foreach (var (name, value) in xen.Counters.All()) store.AddCounter(CounterNames.XenGlobalPrefix + name, value);
        source.WriteCounters();
        store.Commit();
        var written = new Dictionary<int, XenoprofBufHeader>();
        foreach (var d in new[] { 0 }.Concat(options.ActiveDomains).Concat(options.PassiveDomains).Distinct()) written[d] = xen.BufferTotals(d);
        return new XenRunResult(store.Path, xen.Counters, written, source.StoredByDomainAndMode.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    private static void WriteMeta(SessionStore store, XenSessionOptions options, ResolvedScenario scenario, string cpuType)
    {
        store.SetMeta("cpu", cpuType);
        store.SetMeta("cpu_mhz", scenario.Source.CpuMhz.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("hostname", Environment.MachineName);
        store.SetMeta("kernel", HostFacts.KernelRelease());
        store.SetMeta("nr_cpus", scenario.Source.Pcpus.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("source", "xenoprof");
        store.SetMeta("hypervisor", "emulated:" + scenario.Source.Name);
        store.SetMeta("target", "system-wide (Xen)");
        store.SetMeta("callgraph_depth", options.CallgraphDepth.ToString(CultureInfo.InvariantCulture));
        if (options.XenImage != null) store.SetMeta("xen_image", options.XenImage);
        store.SetMeta("seed", scenario.Source.Seed.ToString(CultureInfo.InvariantCulture));
    }
}
