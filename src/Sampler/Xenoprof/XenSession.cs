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
/// Runs a whole xenoprof session against an <see cref="EmulatedHypervisor"/> into a session directory (see <see cref="EmulatedXenRun"/>
/// for the stepping and draining).
/// </summary>
public static class XenSession
{
    /// <summary>
    /// Runs the session for the scenario's duration. <paramref name="options"/>' events default to the scenario's event and count.
    /// Throws <see cref="XenoprofException"/> when an op fails, <see cref="ArgumentException"/> for bad options.
    /// </summary>
    public static XenRunResult RunEmulated(SessionDirectory dir, XenSessionOptions options, EmulatedHypervisor xen, TextWriter? log = null)
    {
        using var run = EmulatedXenRun.Open(dir, options, xen, log);
        run.Start();
        run.PumpTo(xen.NowNs + xen.DurationNs);
        run.Stop();
        return run.Finish();
    }
}

/// <summary>
/// One xenoprof session on the emulated Xen, step by step: <see cref="Open"/> creates the store and sets Xen up in the
/// dom0 driver's order, <see cref="Start"/>, then <see cref="PumpTo"/> advances simulated time in steps of the scenario's
/// drain interval; after each step the VCPUs that got VIRQ_XENOPROF are drained (a VIRQ on dom0 drains the passive
/// buffers too, as the dom0 driver does) and every <see cref="TimerDrainNs"/> all buffers are drained on a timer;
/// <see cref="Stop"/> stops and flushes; <see cref="Finish"/> tears Xen down and stores the counters.
/// </summary>
public sealed class EmulatedXenRun : IDisposable
{
    /// <summary>Simulated time between timer drains of every buffer.</summary>
    public const long TimerDrainNs = 10_000_000;

    private readonly SessionStore _store;
    private readonly XenSessionOptions _options;
    private readonly EmulatedHypervisor _xen;
    private readonly IXenoprofHypercalls _primary;
    private readonly XenoprofSampleSource _source;
    private long _nextTimer;
    private bool _running, _finished;
    private XenRunResult? _result;

    private EmulatedXenRun(SessionStore store, XenSessionOptions options, EmulatedHypervisor xen, IXenoprofHypercalls primary, XenoprofSampleSource source)
    {
        _store = store; _options = options; _xen = xen; _primary = primary; _source = source;
    }

    /// <summary>The session store being written.</summary>
    public SessionStore Store => _store;

    /// <summary>The emulated Xen.</summary>
    public EmulatedHypervisor Xen => _xen;

    /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public bool IsRunning => _running;

    /// <summary>Samples stored so far.</summary>
    public long Samples => _source.Samples;

    /// <summary>Creates the store and performs the setup ops. Throws <see cref="XenoprofException"/> or another <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/>.</summary>
    /// <remarks>With <paramref name="append"/> (the opcontrol daemon) an existing store is appended to, as after a daemon
    /// restart; otherwise it is replaced (a one-shot run such as the demo).</remarks>
    public static EmulatedXenRun Open(SessionDirectory dir, XenSessionOptions options, EmulatedHypervisor xen, TextWriter? log = null, bool append = false)
    {
        options.Validate();
        var scenario = xen.Scenario;
        foreach (var d in options.ActiveDomains.Concat(options.PassiveDomains))
            if (!scenario.Domains.Any(x => x.Id == d)) throw new XenProf.Hypervisor.Binary.XenProfUserException($"domain {d} does not exist in scenario {scenario.Source.Name} (domains {string.Join(", ", scenario.Domains.Select(x => x.Id))})");
        dir.EnsureWritable();
        dir.SnapshotKernelSymbols();
        var specs = options.Events.Count > 0 ? options.Events : [$"{scenario.Source.Event}:{scenario.Source.Count}"];
        long existing = 0;
        var store = append ? SessionStore.OpenOrCreate(dir.StorePath, out existing) : SessionStore.Create(dir.StorePath);
        if (existing > 0) log?.WriteLine($"session {dir.Path}: appending to {existing} samples already stored");
        try
        {
            var events = new List<EventId>();
            var counters = new List<(ulong, bool, bool, uint, uint)>();
            foreach (var s in specs)
            {
                var spec = EventSpec.Parse(s);
                if (!EventCatalogue.TryFind(spec.Name, out var def)) throw new XenProf.Hypervisor.Binary.XenProfUserException($"unknown event {spec.Name}; see 'xenoprof list-events'");
                ulong count = spec.Count ?? def.DefaultCount;
                events.Add(store.AddEvent(new StoredEvent(def.Name, (uint)def.Type, def.Config, count, spec.UnitMask, spec.Kernel, spec.User, def.Unit, def.Description)).Id);
                counters.Add((count, spec.Kernel, spec.User, spec.UnitMask, (uint)def.Config));
            }
            foreach (var d in scenario.Domains) store.SetDomain(d.Id, d.Name);
            // Samples without a known task: pid 0 of each profiled domain, passive ones included.
            foreach (var d in new[] { 0 }.Concat(options.ActiveDomains).Concat(options.PassiveDomains).Distinct()) store.SetProcess(d, 0, 0, $"domain{d}");
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
                }
            }
            var primary = xen.Connect(0);
            var source = new XenoprofSampleSource(store, options, primary, guests, events, processes);
            source.Setup(counters);
            WriteMeta(store, options, scenario, source.CpuType);
            store.Commit();
            log?.WriteLine($"xenoprof: {scenario.Source.Name}: active domains {string.Join(",", new[] { 0 }.Concat(options.ActiveDomains))}"
                + (options.PassiveDomains.Count > 0 ? $", passive domains {string.Join(",", options.PassiveDomains)}" : "")
                + $", {specs[0]}, {scenario.Source.DurationMs} ms simulated on {scenario.Source.Pcpus} CPUs");
            return new EmulatedXenRun(store, options, xen, primary, source);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>XENOPROF_start.</summary>
    public void Start()
    {
        _source.Start();
        _running = true;
        _nextTimer = _xen.NowNs + TimerDrainNs;
    }

    /// <summary>Advances simulated time to <paramref name="untilNs"/>, draining as the dom0 driver would. Returns entries drained.</summary>
    public long PumpTo(long untilNs)
    {
        long n = 0, step = (long)_xen.Scenario.Source.DrainIntervalUs * 1000;
        while (_xen.NowNs < untilNs)
        {
            _xen.Advance(Math.Min(untilNs, _xen.NowNs + step));
            var virqs = _xen.TakePendingVirqs();
            if (virqs.Any(v => v.Domain == 0) || _xen.NowNs >= _nextTimer)
            {
                n += _source.DrainAll(_xen.NowNs);
                if (_xen.NowNs >= _nextTimer) { _nextTimer += TimerDrainNs; _store.Commit(); }
            }
            else foreach (var (d, v) in virqs) n += _source.DrainVcpu(d, v, _xen.NowNs);
        }
        return n;
    }

    /// <summary>XENOPROF_stop and the final drain; the store is committed.</summary>
    public void Stop()
    {
        if (!_running) return;
        _source.Stop(_xen.NowNs);
        _xen.TakePendingVirqs();
        _running = false;
        _store.Commit();
    }

    /// <summary>Teardown (disable_virq, release_counters, shutdown), Xen's counters into the store; returns the reconciliation facts.</summary>
    public XenRunResult Finish()
    {
        if (_result != null) return _result;
        Stop();
        _source.Shutdown();
        foreach (var (name, value) in _xen.Counters.All()) _store.AddCounter(CounterNames.XenGlobalPrefix + name, value);
        _source.WriteCounters();
        _store.Commit();
        var written = new Dictionary<int, XenoprofBufHeader>();
        foreach (var d in new[] { 0 }.Concat(_options.ActiveDomains).Concat(_options.PassiveDomains).Distinct()) written[d] = _xen.BufferTotals(d);
        _finished = true;
        return _result = new XenRunResult(_store.Path, _xen.Counters, written, _source.StoredByDomainAndMode.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>Finishes (if not yet) and closes the store.</summary>
    public void Dispose()
    {
        try { if (!_finished) Finish(); }
        finally
        {
            _primary.Dispose();
            _store.Dispose();
        }
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
        if (options.Separate != null) store.SetMeta("separate", options.Separate);
    }
}
