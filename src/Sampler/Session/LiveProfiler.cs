using System.Globalization;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Session;

/// <summary>What a live profiler samples: every CPU, or one process tree (children followed through inherit).</summary>
public sealed record ProfilerTarget
{
    /// <summary>Process to follow; null = system-wide.</summary>
    public int? Pid { get; init; }

    /// <summary>Counting starts when the target process calls exec (for a command started stopped).</summary>
    public bool EnableOnExec { get; init; }

    /// <summary>Anonymous code is named by the process's JIT perf map, <c>/tmp/perf-PID.map</c> (<see cref="Attributor.NameJitMaps"/>).</summary>
    public bool JitMaps { get; init; }

    /// <summary>Every CPU, every process.</summary>
    public static ProfilerTarget SystemWide { get; } = new();
}

/// <summary>
/// One live sampling run on this machine: perf_event rings (one per CPU) drained into an
/// <see cref="Attributor"/> that writes the session store. Used by the opcontrol daemon and by
/// <c>record</c>. Methods are not thread-safe: the owner serializes calls.
/// Errors: <see cref="PerfEventOpenException"/> when an event cannot be opened (message names the event and a fix);
/// <see cref="SessionException"/> for an unwritable session directory.
/// </summary>
public sealed class LiveProfiler : IDaemonProfiler
{
    private readonly PerfEventSampler _sampler;
    private readonly SessionStore _store;
    private readonly Attributor _attributor;
    private readonly PerfRecordAttribution _sink;
    private bool _enabled, _disposed;

    private LiveProfiler(PerfEventSampler sampler, SessionStore store, Attributor attributor, PerfRecordAttribution sink)
    {
        _sampler = sampler; _store = store; _attributor = attributor; _sink = sink;
    }

    /// <summary>
    /// Opens the events (disabled), opens the session store, records the session facts and the processes that
    /// already exist, and returns a profiler ready to <see cref="Enable"/>. With <paramref name="append"/> (the
    /// opcontrol daemon) samples already in the store are kept and new ones added, as opcontrol does until
    /// <c>--reset</c>; without it (<c>record</c>, like operf) the previous run's samples move to saved session
    /// <c>previous</c> and the store starts empty. <paramref name="log"/> gets a one-line note of what was kept or moved.
    /// Throws <see cref="StoreException"/> for an existing store of another schema version (it is left as it is).
    /// </summary>
    public static LiveProfiler Open(SessionDirectory dir, SessionConfig config, ProfilerTarget target, bool append = false, TextWriter? log = null)
    {
        dir.EnsureWritable();
        var events = EventResolver.Resolve(config.Events);
        var options = new PerfSamplerOptions
        {
            Pid = target.Pid,
            Callchains = config.CallgraphDepth > 0,
            MaxStack = (ushort)Math.Clamp(config.CallgraphDepth, 1, 127),
            EnableOnExec = target.EnableOnExec,
            DataPages = config.RingPages,
        };
        PerfEventSampler sampler;
        try
        {
            sampler = PerfEventSampler.Open(events.Select(e => e.Request).ToList(), options);
        }
        catch (PerfEventOpenException e) when (e.Errno is 1 or 13 && target.Pid != null && events.Any(ev => !ev.Request.ExcludeKernel))
        {
            // As perf does: an unprivileged user under perf_event_paranoid=2 may still sample its own
            // process in user space, so retry without kernel samples and say so in the report header.
            var userOnly = events.Select(ev => ev with
            {
                Request = ev.Request with { ExcludeKernel = true },
                Stored = ev.Stored with { Kernel = false },
                Note = "Kernel samples excluded: this user may not sample the kernel (perf_event_paranoid); run as root to include them",
            }).ToList();
            sampler = PerfEventSampler.Open(userOnly.Select(ev => ev.Request).ToList(), options);
            events = userOnly;
        }
        SessionStore? store = null;
        try
        {
            if (append)
            {
                store = SessionStore.OpenOrCreate(dir.StorePath, out var existing);
                if (existing > 0) log?.WriteLine($"session {dir.Path}: appending to {existing} samples already stored (--reset clears them)");
            }
            else
            {
                var moved = dir.MoveSamplesTo("previous");
                if (moved > 0) log?.WriteLine($"session {dir.Path}: the previous run's {moved} samples moved to session:previous");
                store = SessionStore.Create(dir.StorePath);
            }
            dir.SnapshotKernelSymbols();
            var ids = events.Select(e => store.AddEvent(e.Stored).Id).ToList();
            WriteMeta(store, events, config, target);
            // Build-ids are read from the mapped files: the kernel is not asked for build-id MMAP2s (see PerfEventSampler.BuildAttr).
            var buildIds = new Dictionary<string, string?>(StringComparer.Ordinal);
            var attributor = new Attributor(store, KernelLayout.Load(dir.ModulesPath))
            {
                NameJitMaps = target.JitMaps,
                BuildIdOf = path => Attributor.ClassifyMapping(path) != ImageKind.Elf ? null
                    : buildIds.TryGetValue(path, out var id) ? id : buildIds[path] = XenProf.Hypervisor.Binary.Elf.ElfFile.TryReadBuildId(path),
            };
            if (target.Pid is { } pid) attributor.SynthesizeFromProc(pid);
            else attributor.SynthesizeAllFromProc();
            store.Commit();
            return new LiveProfiler(sampler, store, attributor, new PerfRecordAttribution(attributor, store, ids));
        }
        catch
        {
            store?.Dispose();
            sampler.Dispose();
            throw;
        }
    }

    private static void WriteMeta(SessionStore store, IReadOnlyList<ResolvedEvent> events, SessionConfig config, ProfilerTarget target)
    {
        var (cpu, mhz) = HostFacts.Cpu();
        store.SetMeta("cpu", cpu);
        if (mhz > 0) store.SetMeta("cpu_mhz", mhz.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("hostname", Environment.MachineName);
        store.SetMeta("kernel", HostFacts.KernelRelease());
        store.SetMeta("nr_cpus", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("source", "perf_event");
        store.SetMeta("target", target.Pid is { } p ? $"pid {p} and its children" : "system-wide");
        store.SetMeta("callgraph_depth", config.CallgraphDepth.ToString(CultureInfo.InvariantCulture));
        var note = events.Select(e => e.Note).FirstOrDefault(n => n != null);
        if (note != null) store.SetMeta("event_note", note);
    }

    /// <summary>Samples written to the store so far.</summary>
    public long Samples => _attributor.SamplesWritten;

    /// <inheritdoc/>
    public SessionStore Store => _store;

    /// <summary>Samples the kernel reported lost (ring full).</summary>
    public long LostSamples => _sink.LostSamples;

    /// <summary>True between <see cref="Enable"/> and <see cref="Disable"/>.</summary>
    public bool IsEnabled => _enabled;

    /// <summary>Event names being sampled.</summary>
    public IReadOnlyList<string> EventNames => _sampler.Events.Select(e => e.Name).ToList();

    /// <summary>Starts counting on every CPU.</summary>
    public void Enable() { _sampler.Enable(); _enabled = true; }

    /// <summary>Marks the events as counting without enabling them: they were opened with enable_on_exec and start at the target's exec.</summary>
    public void MarkEnabledOnExec() => _enabled = true;

    /// <summary>Stops counting, then drains what the rings hold.</summary>
    public void Disable()
    {
        _sampler.Disable();
        _enabled = false;
        Dump();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for ring data.</summary>
    public void Wait(TimeSpan timeout) => _sampler.Poll(timeout);

    /// <summary>One pass over all rings: decodes what they hold and attributes records that are old enough (see <see cref="PerfRecordAttribution"/>).</summary>
    public int Drain()
    {
        int n = _sampler.Drain(_sink);
        _sink.EndPass();
        return n;
    }

    /// <summary>Drains every ring, attributes everything queued and commits: the store is complete up to now.</summary>
    public void Dump()
    {
        Drain();
        _sampler.Drain(_sink);
        _sink.Flush();
        _store.Commit();
    }

    /// <summary>Stops sampling, flushes and closes the store.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { if (_enabled) Disable(); else Dump(); }
        finally
        {
            _sampler.Dispose();
            _store.Dispose();
        }
    }
}

/// <summary>Facts about this host recorded in a session's header.</summary>
public static class HostFacts
{
    /// <summary>CPU model name and MHz from /proc/cpuinfo (("unknown", 0) when unreadable).</summary>
    public static (string Model, double Mhz) Cpu()
    {
        string model = "unknown";
        double mhz = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var i = line.IndexOf(':');
                if (i < 0) continue;
                var key = line[..i].Trim();
                var val = line[(i + 1)..].Trim();
                if (key == "model name" && model == "unknown") model = val;
                else if (key == "cpu MHz" && mhz == 0) double.TryParse(val, NumberStyles.Float, CultureInfo.InvariantCulture, out mhz);
            }
        }
        catch (IOException) { }
        return (model, mhz);
    }

    /// <summary>The running kernel's release (/proc/sys/kernel/osrelease).</summary>
    public static string KernelRelease()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return "unknown"; }
    }
}
