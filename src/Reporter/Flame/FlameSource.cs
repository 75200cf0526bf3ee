using System.Text.RegularExpressions;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// A session opened for export: the store's tables, a symbolizer, and the selected samples streamed in
/// time order with their stacks resolved once per distinct stack. Every exporter reads a session through
/// this one type, so any store (live, emulated Xen, imported) exports the same way.
/// </summary>
public sealed partial class FlameSource : IDisposable
{
    private readonly IFrameSymbolizer _symbolizer;
    private readonly bool _ownsStore;
    private readonly IDisposable? _owned;
    private readonly IReadOnlyDictionary<ImageId, StoredImage> _images;
    private readonly IReadOnlyDictionary<FrameId, StoredFrame> _frames;
    private readonly IReadOnlyDictionary<StackId, StoredStack> _stacks;
    private readonly Dictionary<FrameId, ExportFrame> _exportFrames = new();
    private readonly List<ExportFrame> _frameList = new();
    private readonly Dictionary<StackId, ExportFrame[]> _resolved = new();
    private readonly HashSet<int> _domainsWithProcesses;

    /// <summary>Reads <paramref name="store"/> (kept open by the caller unless <paramref name="ownsStore"/>) and names frames with <paramref name="symbolizer"/>.</summary>
    public FlameSource(SessionStore store, IFrameSymbolizer symbolizer, bool ownsStore = false)
        : this(store, symbolizer, ownsStore, null) { }

    private FlameSource(SessionStore store, IFrameSymbolizer symbolizer, bool ownsStore, IDisposable? owned)
    {
        Store = store;
        _symbolizer = symbolizer;
        _ownsStore = ownsStore;
        _owned = owned;
        Events = store.ReadEvents();
        Domains = store.ReadDomains();
        Processes = store.ReadProcesses();
        _domainsWithProcesses = Processes.Keys.Select(k => k.Domain).ToHashSet();
        Threads = store.ReadThreads();
        Meta = store.ReadMeta();
        _images = store.ReadImages();
        _frames = store.ReadFrames();
        _stacks = store.ReadStacks();
        _storedNames = store.ReadFrameNames();
        _comms = store.ReadComms();
    }

    private readonly IReadOnlyDictionary<CommId, string> _comms;

    private readonly IReadOnlyDictionary<FrameId, string?> _storedNames;

    /// <summary>
    /// Opens the session in <paramref name="sessionDir"/> read-only, with kernel symbols from the session's own
    /// kallsyms/modules snapshot (falling back to /proc). Throws <see cref="StoreException"/> when there is no store.
    /// </summary>
    public static FlameSource Open(string sessionDir)
    {
        var dir = new SessionDirectory(sessionDir);
        var store = SessionStore.OpenRead(dir.StorePath);
        var symbolizer = new Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir));
        var frames = new StoreFrameSymbolizer(symbolizer, store.ReadMeta());
        return new FlameSource(store, SymbolCache.Wrap(store, symbolizer, frames), ownsStore: true, owned: new Owned(frames, symbolizer));
    }

    /// <summary>The store read.</summary>
    public SessionStore Store { get; }

    /// <summary>Events in store order.</summary>
    public IReadOnlyList<StoredEvent> Events { get; }

    /// <summary>Domain id to name.</summary>
    public IReadOnlyDictionary<int, string> Domains { get; }

    /// <summary>Processes by (domain, pid).</summary>
    public IReadOnlyDictionary<(int Domain, int Pid), StoredProcess> Processes { get; }

    /// <summary>Threads by (domain, tid).</summary>
    public IReadOnlyDictionary<(int Domain, int Tid), (int Pid, string Comm)> Threads { get; }

    /// <summary>Session facts (<c>meta</c> table).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Frames resolved so far, in <see cref="ExportFrame.Index"/> order.</summary>
    public IReadOnlyList<ExportFrame> Frames => _frameList;

    /// <summary>Symbolization warnings, each once.</summary>
    public IReadOnlyList<string> Warnings => _symbolizer.Warnings;

    /// <summary>The event named <paramref name="name"/> (case-insensitive), or the first event when null; <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for an unknown name.</summary>
    public StoredEvent PickEvent(string? name)
    {
        if (Events.Count == 0) throw new XenProf.Hypervisor.Binary.XenProfUserException("the session has no events");
        if (name == null) return Events[0];
        return Events.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {name} is not in this session (it has {string.Join(", ", Events.Select(e => e.Name))})");
    }

    /// <summary>The events a selection covers: the named one, or all of them.</summary>
    public IReadOnlyList<StoredEvent> EventsOf(FlameSelection selection) =>
        selection.Event == null ? Events : [PickEvent(selection.Event)];

    /// <summary>
    /// The selected samples, in time order (ties in the order they were stored), streamed. The domain filter
    /// applies to the stored domain, as opreport's does (a passive domain's samples are dom0's); each sample is then
    /// given its <see cref="EffectiveDomain"/>, so tracks, profiles and timelines show passive domains apart.
    /// </summary>
    public IEnumerable<StoredSample> Samples(FlameSelection selection)
    {
        EventId? ev = selection.Event == null ? null : PickEvent(selection.Event).Id;
        foreach (var stored in Store.ReadSamples(selection.Domain))
        {
            if (ev != null && stored.Event != ev.Value) continue;
            if (selection.Pid != null && stored.Pid != selection.Pid) continue;
            if (selection.Tid != null && stored.Tid != selection.Tid) continue;
            if (selection.FromNs != null && stored.TimeNs < selection.FromNs) continue;
            if (selection.ToNs != null && stored.TimeNs >= selection.ToNs) continue;
            if (selection.Domain != null && stored.Domain != selection.Domain) continue;
            yield return WithEffectiveDomain(stored);
        }
    }

    /// <summary>The selected samples in storage order, as <see cref="Samples"/> gives them otherwise: for aggregations that need no time order, which read faster.</summary>
    public IEnumerable<StoredSample> UnorderedSamples(FlameSelection selection)
    {
        EventId? ev = selection.Event == null ? null : PickEvent(selection.Event).Id;
        foreach (var stored in Store.ReadSamplesUnordered(selection.Domain, selection.FromNs, selection.ToNs))
        {
            if (ev != null && stored.Event != ev.Value) continue;
            if (selection.Pid != null && stored.Pid != selection.Pid) continue;
            if (selection.Tid != null && stored.Tid != selection.Tid) continue;
            if (selection.Domain != null && stored.Domain != selection.Domain) continue;
            yield return WithEffectiveDomain(stored);
        }
    }

    /// <summary>
    /// The domain a sample belongs to: the passive domain whose image its sampled frame lies in (passive
    /// domains' samples reach the store through dom0's buffers, docs/architecture.md), else the stored domain.
    /// </summary>
    public int EffectiveDomain(in StoredSample sample) => GuestDomainOf(StackOf(sample.Stack)[^1]) ?? sample.Domain;

    private StoredSample WithEffectiveDomain(in StoredSample s)
    {
        int d = EffectiveDomain(s);
        return d == s.Domain ? s : s with { Domain = d };
    }

    /// <summary>The frames of stack <paramref name="stack"/>, root first (outermost caller first, sampled frame last); cached.</summary>
    public IReadOnlyList<ExportFrame> StackOf(StackId stack)
    {
        if (_resolved.TryGetValue(stack, out var r)) return r;
        int depth = 0;
        for (var s = stack; s.Value != 0; s = _stacks[s].Parent) depth++;
        r = new ExportFrame[depth];
        int i = depth;
        for (var s = stack; s.Value != 0; s = _stacks[s].Parent) r[--i] = FrameOf(_stacks[s].Frame);
        _resolved[stack] = r;
        return r;
    }

    /// <summary>Time of the session's first sample (session clock, ns), or 0 when it has none.</summary>
    public long FirstSampleNs()
    {
        return Store.FirstSampleTime() ?? 0;
    }

    /// <summary>The caller's node of stack node <paramref name="stack"/> (0 at the root).</summary>
    public StackId ParentStack(StackId stack) => _stacks[stack].Parent;

    /// <summary>The named frame of stored frame <paramref name="id"/>.</summary>
    public ExportFrame FrameOf(FrameId id)
    {
        if (_exportFrames.TryGetValue(id, out var f)) return f;
        var fr = _frames[id];
        var image = _images[fr.Image];
        string imageName = ProfileBuilder.DisplayName(image);
        if (imageName.StartsWith('/')) imageName = Path.GetFileName(imageName); // e.g. a cached xen-syms path
        // Names the source gave its frames (perf script, EventPipe) win over the symbolizer, as in ProfileBuilder;
        // a stored null means the source found no symbol there.
        string? symbol = _storedNames.TryGetValue(id, out var named) ? named : _symbolizer.Symbolize(image, fr.Offset);
        var guest = GuestImage().Match(imageName);
        var kind = guest.Success ? FrameKind.Guest : KindOf(image, imageName, symbol);
        string name = symbol ?? "[" + imageName.Trim('[', ']') + "]";
        if (guest.Success && symbol != null) name = imageName + ":" + symbol;
        f = new ExportFrame(_frameList.Count, id, name, symbol, kind, image, imageName, fr.Offset);
        _exportFrames[id] = f;
        _frameList.Add(f);
        return f;
    }

    /// <summary>
    /// The process name of (<paramref name="domain"/>, <paramref name="pid"/>): its comm; for pid 0 the domain's name when
    /// no process of that domain is known (a passive domain), else <c>swapper</c>; else <c>:PID</c>.
    /// </summary>
    public string ProcessName(int domain, int pid) =>
        Processes.TryGetValue((domain, pid), out var p) ? p.Comm
        : pid == 0 && domain != 0 && !_domainsWithProcesses.Contains(domain) ? DomainName(domain) // a passive domain: no processes known
        : pid == 0 ? "swapper" : ":" + pid;

    /// <summary>The thread name of (<paramref name="domain"/>, <paramref name="tid"/>), falling back to its process's name.</summary>
    public string ThreadName(int domain, int tid, int pid) =>
        Threads.TryGetValue((domain, tid), out var t) ? t.Comm : ProcessName(domain, pid);

    /// <summary>The display name of domain <paramref name="domain"/>: its stored name, else <c>domN</c>.</summary>
    public string DomainName(int domain) => Domains.TryGetValue(domain, out var n) ? n : "dom" + domain;

    /// <summary>
    /// The name a sample's root frame gets, as stackcollapse-perf.pl takes it from perf script: the thread's comm at
    /// the sample's time when the source recorded it (<see cref="StoredSample.Comm"/>), else the process's name.
    /// </summary>
    public string RootName(int domain, int pid, CommId comm) =>
        comm.Value != 0 && _comms.TryGetValue(comm, out var c) ? c : ProcessName(domain, pid);

    /// <summary>
    /// Flame-graph stacks of one event (the selection's, else the first): the thread's name at the sample as the root
    /// frame (<see cref="RootName"/>; spaces as <c>_</c>, as stackcollapse-perf.pl writes it), then the resolved frames;
    /// one entry per distinct (domain, pid, name, stack), weights in samples.
    /// </summary>
    public IReadOnlyList<FlameStack> FlameStacks(FlameSelection selection)
    {
        var ev = PickEvent(selection.Event);
        var sums = new Dictionary<(int, int, CommId, StackId), long>();
        if (selection is { Pid: null, Tid: null, FromNs: null, ToNs: null })
        {
            // The store keeps these sums (stack_totals): no pass over the samples.
            foreach (var t in Store.ReadStackTotals(selection.Domain))
            {
                if (t.Event != ev.Id) continue;
                var key = (GuestDomainOf(StackOf(t.Stack)[^1]) ?? t.Domain, t.Pid, t.Comm, t.Stack);
                sums[key] = sums.GetValueOrDefault(key) + t.Weight;
            }
        }
        else
        {
            // No time order needed: read samples as stored and sum in memory.
            foreach (var s in UnorderedSamples(selection with { Event = ev.Name }))
            {
                var key = (s.Domain, s.Pid, s.Comm, s.Stack);
                sums[key] = sums.GetValueOrDefault(key) + s.Weight;
            }
        }
        var list = new List<FlameStack>(sums.Count);
        foreach (var ((dom, pid, comm, stack), n) in sums)
        {
            var frames = StackOf(stack);
            var ff = new FlameFrame[frames.Count + 1];
            ff[0] = new FlameFrame(RootName(dom, pid, comm).Replace(' ', '_'), FrameKind.Process); // as stackcollapse-perf.pl names the root
            for (int i = 0; i < frames.Count; i++) ff[i + 1] = new FlameFrame(frames[i].Name, frames[i].Kind);
            list.Add(new FlameStack(ff, n));
        }
        return list;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _owned?.Dispose();
        if (_ownsStore) Store.Dispose();
    }

    /// <summary>
    /// The kind that colours a frame and picks its folded annotation, following stackcollapse-perf.pl's rules
    /// (FlameGraph's stackcollapse-perf.pl) so <c>--annotate</c> marks what its <c>--all</c> would: <c>_[k]</c> for every image
    /// perf shows in brackets (kernel, modules, <c>[vdso]</c>) except <c>[unknown]</c>; <c>_[j]</c> only for code named
    /// through a JIT map (anonymous memory that resolved); the hypervisor is XenProf's own <c>_[h]</c>.
    /// </summary>
    public static FrameKind KindOf(StoredImage image, string imageName, string? symbol) => image.Kind switch
    {
        ImageKind.Hypervisor => FrameKind.Hypervisor,
        ImageKind.Kernel or ImageKind.KernelModule or ImageKind.Vdso => FrameKind.Kernel,
        ImageKind.Anonymous => symbol != null ? FrameKind.Jit : FrameKind.Unknown,
        ImageKind.Managed => FrameKind.Jit,
        _ when imageName.StartsWith('[') && imageName != "[unknown]" => FrameKind.Kernel,
        ImageKind.Unknown => FrameKind.Unknown,
        _ => FrameKind.User,
    };

    /// <summary>The passive domain whose image <paramref name="frame"/> lies in (<c>domainN-…</c>), or null.</summary>
    public static int? GuestDomainOf(ExportFrame frame)
    {
        if (frame.Kind != FrameKind.Guest) return null;
        var m = GuestImage().Match(frame.ImageName);
        return m.Success && int.TryParse(frame.ImageName.AsSpan(6, m.Length - 7), out var d) ? d : null;
    }

    private sealed class Owned(params IDisposable?[] items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i?.Dispose(); }
    }

    // Passive domains' images are named domainN-kernel, domainN-xen, domainN-apps (docs/architecture.md, Attribution).
    [GeneratedRegex(@"^domain\d+-")]
    private static partial Regex GuestImage();
}
