using System.Globalization;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Web;

/// <summary>
/// A request the web report cannot answer: a bad parameter (<see cref="Status"/> 400) or a function the profile does not
/// have (404). The message is one line for the user.
/// </summary>
public sealed class WebQueryException(string message, int status = 400) : XenProf.Hypervisor.Binary.XenProfUserException(message)
{
    /// <summary>The HTTP status the answer carries: 400 or 404.</summary>
    public int Status { get; } = status;
}

/// <summary>
/// Which samples a web answer covers: an event (index into the session's events) and a time window in ns after the
/// session's first sample (<see cref="ProfileOptions.FromNs"/>/<see cref="ProfileOptions.ToNs"/> with relative times).
/// </summary>
/// <param name="Event">Event index (0 = the first event).</param>
/// <param name="FromNs">Window start, inclusive, or null.</param>
/// <param name="ToNs">Window end, exclusive, or null.</param>
public readonly record struct WebQuery(int Event = 0, long? FromNs = null, long? ToNs = null)
{
    /// <summary>
    /// Reads <c>event</c>, <c>from</c> and <c>to</c> (non-negative integers, ns) through <paramref name="get"/> (a query
    /// string lookup). Throws <see cref="WebQueryException"/> naming the parameter for anything else.
    /// </summary>
    public static WebQuery Parse(Func<string, string?> get)
    {
        long? from = Number(get, "from"), to = Number(get, "to");
        if (from != null && to != null && to <= from) throw new WebQueryException($"to={to}: must be greater than from={from}");
        long? ev = Number(get, "event");
        if (ev > int.MaxValue) throw new WebQueryException($"event={ev}: no such event");
        return new WebQuery((int)(ev ?? 0), from, to);
    }

    /// <summary>The non-negative integer parameter <paramref name="name"/>, or null when absent or empty.</summary>
    public static long? Number(Func<string, string?> get, string name)
    {
        var v = get(name);
        if (string.IsNullOrEmpty(v)) return null;
        return long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new WebQueryException($"{name}={Clip(v)}: expected a non-negative integer");
    }

    internal static string Clip(string v) => v.Length > 40 ? v[..40] + "…" : v;
}

/// <summary>
/// The data behind the browser report of one session directory: builds the profile (with stacks, samples and
/// per-instruction details) once per time window and answers the views from it, as JSON view models. Each call first
/// checks whether the store's files changed (a daemon still writing, an <c>opcontrol --dump</c>) and then rebuilds, so a
/// reload shows the new samples. Thread-safe: calls are serialized.
/// </summary>
/// <remarks>
/// Opened with a base session it is a differential report, as <c>opreport { BASE } { NEW }</c>: the session is the new
/// profile, <see cref="Diff"/> answers the differential top table (<see cref="ProfileDiff"/>, the same rows, p-values and
/// marks), and <see cref="Flame"/> carries each frame's change. Time windows are refused then (each side has its own
/// time axis), and the call graph and disassembly are the new profile's.
/// </remarks>
public sealed partial class WebSession : IDisposable
{
    /// <summary>Groupings of the top table.</summary>
    public static readonly IReadOnlyList<string> TopGroupings = ["symbol", "image", "domain", "process", "thread"];

    /// <summary>Groupings of the timeline.</summary>
    public static readonly IReadOnlyList<string> TimelineGroupings = ["domain", "cpu", "thread"];

    private const int MaxSeries = 12;
    private const int MaxCachedWindows = 8;
    private readonly object _lock = new();
    private readonly SessionDirectory _dir;
    private readonly Dictionary<(long?, long?), Built> _cache = [];
    private string _stamp = "";
    private long _generation;
    private Symbolizer? _symbolizer;
    private CodeBytes? _code;
    private readonly WebSession? _base;
    private readonly string _baseName = "", _newName = "";

    private sealed record Built(Profile.Profile Profile, CallGraph Graph)
    {
        // The kind of each image's code: that of its first frame (one pass over the locations, not one per row).
        private Dictionary<ImageId, FrameKind>? _kinds;

        // The flame tree of each event, pruned (Flame): built once per profile, as clicks and reloads ask for it again.
        public readonly Dictionary<int, WebFlame> Flames = [];

        // The timelines asked for (event, grouping, buckets): each is a pass over every sample.
        public readonly Dictionary<(int, string, int), WebTimeline> Timelines = [];

        // The window series of each event (WindowSeries), made once, outside the lock.
        public readonly Dictionary<int, Lazy<byte[]>> WindowSeries = [];

        // The top tables asked for (event, grouping), and each row's identity (RowKey) in the same order.
        public readonly Dictionary<(int, string), (WebTop Top, string[] Keys)> Tops = [];

        public FrameKind KindOf(StoredImage image)
        {
            if (_kinds == null)
            {
                var kinds = new Dictionary<ImageId, FrameKind>();
                foreach (var l in Profile.Locations) kinds.TryAdd(l.Image.Id, l.Kind);
                _kinds = kinds;
            }
            return _kinds.GetValueOrDefault(image.Id, FrameKind.Unknown);
        }
    }

    /// <summary>
    /// Opens the session in <paramref name="sessionDir"/>. Throws <see cref="StoreException"/> when it holds no
    /// session store (the profile is built on first use).
    /// </summary>
    public WebSession(string sessionDir)
    {
        _dir = new SessionDirectory(sessionDir);
        if (!File.Exists(_dir.StorePath)) throw new StoreException($"{_dir.Path}: no session store ({XenProf.Sampler.Store.StoreSchema.FileName}); record one with 'xenoprof record' or name a trace file");
    }

    /// <summary>
    /// A differential report: session <paramref name="newDir"/> compared with <paramref name="baseDir"/>, named
    /// <paramref name="newName"/> and <paramref name="baseName"/> in the summary (what the user typed). Throws
    /// <see cref="StoreException"/> when either directory holds no session store.
    /// </summary>
    public WebSession(string baseDir, string newDir, string baseName, string newName) : this(newDir)
    {
        _base = new WebSession(baseDir);
        _baseName = baseName;
        _newName = newName;
    }

    /// <summary>The session directory (the new profile's, in a differential report).</summary>
    public string Path => _dir.Path;

    /// <summary>Whether this is a differential report (opened with a base session).</summary>
    public bool IsDiff => _base != null;

    /// <summary><c>/api/summary</c>.</summary>
    public WebSummary Summary(WebQuery q) => Locked(q, (b, full, ei) =>
    {
        var p = b.Profile;
        var events = p.Events.Select((e, i) => new WebEvent(e.Name, e.Count, e.Unit, p.Totals[i])).ToList();
        bool stacks = p.StackTotals.Any(t => p.StackOf(t.Stack).Count > 1);
        WebDiffBase? diff = null;
        if (_base != null)
        {
            var bp = _base.WholeProfile();
            int bi = BaseEvent(bp, p, ei);
            diff = new WebDiffBase(_baseName, _newName, bi < 0 ? 0 : bp.Totals[bi], new DiffOptions().Alpha);
        }
        return new WebSummary(events, ei, p.Meta, p.Counters, Duration(full), q.FromNs, q.ToNs, _generation, stacks, p.Warnings, diff);
    });

    /// <summary>
    /// <c>/api/diff</c>: the differential top table per <paramref name="by"/> (<c>symbol</c> or <c>image</c>), the rows
    /// <c>opreport [-l] { BASE } { NEW }</c> prints, with their p-values and significance marks (<see cref="ProfileDiff"/>
    /// with its default level). 404 when the report is not differential or the base lacks the selected event.
    /// </summary>
    public WebDiffTop Diff(WebQuery q, string by) => Locked(q, (_, full, ei) =>
    {
        if (_base == null) throw new WebQueryException("/api/diff: this report is not differential; start it as xenoprof serve { BASE } { NEW }", 404);
        if (by is not ("symbol" or "image")) throw new WebQueryException($"by={WebQuery.Clip(by)}: a differential table is per symbol or image");
        var np = full.Profile;
        var diff = ProfileDiff.Compare(_base.WholeProfile(), np, new DiffOptions { Symbols = by == "symbol" });
        var ev = diff.Events.FirstOrDefault(e => e.New.Id == np.Events[ei].Id)
            ?? throw new WebQueryException($"event={ei}: the base profile has no {np.Events[ei].Name} samples", 404);
        var keys = new Dictionary<(string, string), string>();
        foreach (var r in np.Symbols) keys.TryAdd((r.ImageRow.Name, r.Symbol), Key(r.ImageRow.Image, r.Symbol));
        var rows = ev.Rows.Select(r => new WebDiffRow(r.Symbol ?? r.Image, r.Symbol == null ? "" : r.Image,
            r.Symbol == null ? null : keys.GetValueOrDefault((r.Image, r.Symbol)),
            r.BaseSamples, r.BasePercent, r.NewSamples, r.NewPercent, r.DeltaPp, r.PValue, r.Significant)).ToList();
        return new WebDiffTop(by, ev.BaseTotal, ev.NewTotal, diff.Options.Alpha, rows);
    });

    /// <summary><c>/api/top</c>: rows grouped by <paramref name="by"/> (one of <see cref="TopGroupings"/>).</summary>
    public WebTop Top(WebQuery q, string by) => Locked(q, (b, _, ei) =>
    {
        if (!TopGroupings.Contains(by)) throw new WebQueryException($"by={WebQuery.Clip(by)}: expected one of {string.Join(", ", TopGroupings)}");
        return TopOf(b, ei, by).Top;
    });

    // The top table of event ei by `by`, with each row's identity: the function key (symbol rows), "image:" and the image
    // id (image rows) or the label (the others).
    private static (WebTop Top, string[] Keys) TopOf(Built b, int ei, string by)
    {
        if (b.Tops.TryGetValue((ei, by), out var known)) return known;
        var p = b.Profile;
        long total = p.Totals[ei];
        WebTopRow Row(string name, string image, string kind, string? fn, long self, long incl)
        {
            var (sp, se) = Profile.Profile.Share(self, total);
            var (tp, te) = Profile.Profile.Share(incl, total);
            return new WebTopRow(name, image, kind, fn, self, sp, se, incl, tp, te);
        }
        var rows = new List<(string Key, WebTopRow Row)>();
        switch (by)
        {
            case "symbol":
                var inclusive = b.Graph.Nodes.ToDictionary(n => Key(n.Function.Image, n.Function.Symbol), n => n.Inclusive.Samples[ei]);
                foreach (var r in p.Symbols)
                {
                    long self = r.Counts.Samples[ei];
                    if (self == 0) continue;
                    string fn = Key(r.ImageRow.Image, r.Symbol);
                    rows.Add((fn, Row(r.Symbol, r.ImageRow.Name, KindName(b.KindOf(r.ImageRow.Image)), fn, self, Math.Max(self, inclusive.GetValueOrDefault(fn)))));
                    inclusive.Remove(fn);
                }
                // Functions that only call (main, dispatch…): no self samples, but a total, as perf report --children lists them.
                foreach (var n in b.Graph.Nodes)
                {
                    string fn = Key(n.Function.Image, n.Function.Symbol);
                    if (inclusive.GetValueOrDefault(fn) is > 0 and var incl)
                        rows.Add((fn, Row(n.Function.Symbol, n.Function.ImageName, KindName(b.KindOf(n.Function.Image)), fn, 0, incl)));
                }
                break;
            case "image":
                var imageIncl = new Dictionary<ImageId, long>();
                var evId = p.Events[ei].Id;
                foreach (var t in p.StackTotals)
                {
                    if (t.Event != evId) continue;
                    foreach (var id in p.StackOf(t.Stack).Select(l => l.Image.Id).Distinct())
                        imageIncl[id] = imageIncl.GetValueOrDefault(id) + t.Weight;
                }
                foreach (var r in p.Images)
                {
                    long self = r.Counts.Samples[ei];
                    if (self == 0) continue;
                    rows.Add((ImageKey(r.Image.Id), Row(r.Name, "", KindName(b.KindOf(r.Image)), null, self, Math.Max(self, imageIncl.GetValueOrDefault(r.Image.Id)))));
                }
                break;
            default:
                var evSel = p.Events[ei].Id;
                var sums = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var s in p.Samples)
                {
                    if (s.Event != evSel) continue;
                    string name = LabelName(p, by, s);
                    sums[name] = sums.GetValueOrDefault(name) + s.Weight;
                }
                rows.AddRange(sums.Select(kv => (kv.Key, Row(kv.Key, "", "", null, kv.Value, kv.Value))));
                break;
        }
        var sorted = rows.OrderByDescending(r => r.Row.Self).ThenBy(r => r.Row.Image, StringComparer.Ordinal).ThenBy(r => r.Row.Name, StringComparer.Ordinal).ToList();
        return b.Tops[(ei, by)] = (new WebTop(by, total, sorted.Select(r => r.Row).ToList()), sorted.Select(r => r.Key).ToArray());
    }

    private static string ImageKey(ImageId id) => "image:" + id.Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Share of the root's samples below which <c>/api/flame</c> leaves a frame (and its children) out: 1/100,000, less
    /// than a pixel until the view is zoomed 100-fold into one frame. A system-wide session of 1.5 M samples has
    /// 1.5 M distinct frames, 195 MB of JSON; kept, they made the first render take minutes.
    /// </summary>
    public const double MinFlameShare = 1e-5;

    /// <summary><c>/api/flame</c>: the selected event's stacks as a tree, process frames below the root (as the flame
    /// exports root them), frames under <see cref="MinFlameShare"/> of the root left out.</summary>
    public WebFlame Flame(WebQuery q) => Locked(q, (b, _, ei) =>
    {
        if (_base == null)
        {
            if (!b.Flames.TryGetValue(ei, out var cached)) b.Flames[ei] = cached = BuildFlame(b.Profile, ei, MinFlameShare);
            return cached;
        }
        var flame = BuildFlame(b.Profile, ei);
        var bp = _base.WholeProfile();
        int bi = BaseEvent(bp, b.Profile, ei);
        return Prune(WithDeltas(flame, bi < 0 ? null : BuildFlame(bp, bi)), MinFlameShare);
    });

    /// <summary>Keeps the nodes (pre-order, parents first) with a total of at least <paramref name="share"/> × the root's,
    /// re-indexing parents; the root always stays.</summary>
    internal static WebFlame Prune(WebFlame flame, double share)
    {
        if (share <= 0 || flame.Nodes.Count == 0) return flame;
        long min = Math.Max(1, (long)Math.Ceiling(flame.Total * share));
        var index = new int[flame.Nodes.Count];
        var kept = new List<WebFlameNode>();
        for (int i = 0; i < flame.Nodes.Count; i++)
        {
            var n = flame.Nodes[i];
            index[i] = -1;
            if (i > 0 && (n.Total < min || index[n.Parent] < 0)) continue;
            index[i] = kept.Count;
            kept.Add(n with { Parent = n.Parent < 0 ? -1 : index[n.Parent] });
        }
        return flame with { Nodes = kept };
    }

    /// <summary><c>/api/callgraph</c> for function key <paramref name="fn"/> (a <see cref="WebTopRow.Fn"/>); 404 when the profile has no such function.</summary>
    public WebCallGraph CallGraph(WebQuery q, string fn) => Locked(q, (b, _, ei) =>
    {
        var node = b.Graph.Nodes.FirstOrDefault(n => Key(n.Function.Image, n.Function.Symbol) == fn)
            ?? throw new WebQueryException($"fn={WebQuery.Clip(fn)}: no such function in the selected samples", 404);
        return ToCallGraph(b.Profile, node, ei);
    });

    /// <summary><c>/api/annotate</c>: opannotate's data for function <paramref name="fn"/> (its disassembly with per-instruction counts, and source lines).</summary>
    public WebAnnotation Annotate(WebQuery q, string fn) => AnnotateIndexed(q, fn).Answer;

    // Annotate's answer, and where each sampled address of the function is counted (FunctionAnnotation.DetailIndex; empty
    // when there is no disassembly).
    internal (WebAnnotation Answer, IReadOnlyDictionary<ulong, (int Raw, int Adjusted)> Index) AnnotateIndexed(WebQuery q, string fn) => Locked(q, (b, _, ei) =>
    {
        IReadOnlyDictionary<ulong, (int, int)> none = new Dictionary<ulong, (int, int)>();
        var p = b.Profile;
        var row = p.Symbols.FirstOrDefault(r => Key(r.ImageRow.Image, r.Symbol) == fn)
            ?? throw new WebQueryException($"fn={WebQuery.Clip(fn)}: no such function in the selected samples", 404);
        string start = row.Start.ToString("x", CultureInfo.InvariantCulture);
        if (row.Symbol == Profile.Profile.NoSymbols || row.Size == 0)
            return (new WebAnnotation(row.Symbol, row.ImageRow.Name, start, row.Size, row.Counts.Samples[ei], p.Totals[ei], "no symbol covers these samples, so there is no function to disassemble", null, []), none);
        _code ??= new CodeBytes(_symbolizer!);
        var a = FunctionAnnotation.Build(p, row, _symbolizer!, _code, new OpannotateOptions { Source = true });
        var ins = a.Instructions.Select(i => new WebInstruction(i.Address.ToString("x", CultureInfo.InvariantCulture), i.Text, i.Samples[ei], i.Adjusted[ei],
            i.Source?.File, i.Source?.Line ?? 0, i.Source?.Text)).ToList();
        return (new WebAnnotation(row.Symbol, row.ImageRow.Name, start, row.Size, row.Counts.Samples[ei], p.Totals[ei], a.Problem, a.SourceNote, ins), a.DetailIndex);
    });

    /// <summary><c>/api/timeline</c>: the whole session's samples of the selected event in <paramref name="buckets"/> buckets, per <paramref name="by"/> (one of <see cref="TimelineGroupings"/>).</summary>
    public WebTimeline Timeline(WebQuery q, string by, int buckets) => Locked(q with { FromNs = null, ToNs = null }, (_, full, ei) =>
    {
        if (!TimelineGroupings.Contains(by)) throw new WebQueryException($"by={WebQuery.Clip(by)}: expected one of {string.Join(", ", TimelineGroupings)}");
        if (buckets is < 1 or > 2000) throw new WebQueryException($"buckets={buckets}: expected 1 to 2000");
        if (!full.Timelines.TryGetValue((ei, by, buckets), out var timeline))
            full.Timelines[(ei, by, buckets)] = timeline = BuildTimeline(full.Profile, ei, by, buckets);
        return timeline;
    });

    /// <summary>Releases the symbolizer and code readers.</summary>
    public void Dispose()
    {
        lock (_lock) Reset();
        _base?.Dispose();
    }

    // The whole-session profile (for the other side of a differential report).
    private Profile.Profile WholeProfile()
    {
        lock (_lock)
        {
            Refresh();
            return Get(null, null).Profile;
        }
    }

    // The base profile's event matched by name to the new profile's event ei, as ProfileDiff matches them; -1 if none.
    private static int BaseEvent(Profile.Profile bp, Profile.Profile np, int ei)
    {
        for (int i = 0; i < bp.Events.Count; i++)
            if (string.Equals(bp.Events[i].Name, np.Events[ei].Name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    // Each node's delta is its self samples minus the base's at the same path of (name, kind) frames, as difffolded.pl
    // pairs stacks; the scale is the largest |delta| of any path on either side, base-only paths included (at least 1).
    private static WebFlame WithDeltas(WebFlame flame, WebFlame? baseFlame)
    {
        static string[] Paths(WebFlame f)
        {
            var paths = new string[f.Nodes.Count];
            for (int i = 0; i < paths.Length; i++)
            {
                var n = f.Nodes[i];
                paths[i] = (n.Parent >= 0 ? paths[n.Parent] + "\u0001" : "") + n.Name + "\u0002" + n.Kind;
            }
            return paths;
        }
        var baseSelf = new Dictionary<string, long>(StringComparer.Ordinal);
        if (baseFlame != null)
        {
            var bpaths = Paths(baseFlame);
            for (int i = 0; i < bpaths.Length; i++) if (baseFlame.Nodes[i].Self != 0) baseSelf[bpaths[i]] = baseFlame.Nodes[i].Self;
        }
        var paths = Paths(flame);
        long max = 1;
        var nodes = new List<WebFlameNode>(flame.Nodes.Count);
        for (int i = 0; i < paths.Length; i++)
        {
            var n = flame.Nodes[i];
            long delta = n.Self - (baseSelf.Remove(paths[i], out var b) ? b : 0);
            max = Math.Max(max, Math.Abs(delta));
            nodes.Add(n with { Delta = delta });
        }
        foreach (var b in baseSelf.Values) max = Math.Max(max, b); // stacks only the base has: not drawn, but they scale the colours
        return new WebFlame(flame.Total, nodes, max);
    }

    private T Locked<T>(WebQuery q, Func<Built, Built, int, T> answer)
    {
        if (_base != null && (q.FromNs != null || q.ToNs != null))
            throw new WebQueryException("from/to: a differential report compares the whole sessions; time windows are not available");
        lock (_lock)
        {
            Refresh();
            var full = Get(null, null);
            if (q.Event < 0 || q.Event >= full.Profile.Events.Count)
                throw new WebQueryException($"event={q.Event}: the session has {full.Profile.Events.Count} event(s), numbered from 0");
            return answer(Get(q.FromNs, q.ToNs), full, q.Event);
        }
    }

    // Rebuilds when any of the store's files (database, WAL, sample log) changed size or time since the last build; the
    // shared-memory index (-shm) changes whenever a reader opens the store, so it is not looked at.
    private void Refresh()
    {
        var dir = new DirectoryInfo(_dir.Path);
        var stamp = string.Join(";", dir.EnumerateFiles(StoreSchema.FileName + "*").Where(f => !f.Name.EndsWith("-shm", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
        if (stamp == _stamp) return;
        Reset();
        _stamp = stamp;
        _generation++;
    }

    private void Reset()
    {
        _cache.Clear();
        _code?.Dispose();
        _code = null;
        _symbolizer?.Dispose();
        _symbolizer = null;
    }

    private Built Get(long? from, long? to)
    {
        if (_cache.TryGetValue((from, to), out var b)) return b;
        if (_cache.Count >= MaxCachedWindows)
            foreach (var k in _cache.Keys.Where(k => k != (null, null)).ToList()) _cache.Remove(k);
        _symbolizer ??= new Symbolizer(SessionProfiles.SymbolizerOptionsFor(_dir.Path));
        var p = SessionProfiles.Load(_dir.Path, new ProfileOptions
        {
            FromNs = from, ToNs = to, RelativeTimes = true, WithStacks = true, WithSamples = true, WithDetails = true,
        }, _symbolizer);
        return _cache[(from, to)] = new Built(p, Profile.CallGraph.Of(p));
    }

    private static long Duration(Built full) =>
        full.Profile.Samples.Count == 0 ? 0 : full.Profile.Samples[^1].TimeNs - full.Profile.FirstSampleNs;

    /// <summary>The key of function (<paramref name="image"/>, <paramref name="symbol"/>): <c>IMAGEID:SYMBOL</c>.</summary>
    public static string Key(StoredImage image, string symbol) => image.Id.Value.ToString(CultureInfo.InvariantCulture) + ":" + symbol;

    private static string KindName(FrameKind k) => k.ToString().ToLowerInvariant();

    private static string LabelName(Profile.Profile p, string by, StoredSample s)
    {
        var l = p.Labels;
        string dom = s.Domain == 0 ? "" : l.DomainName(s.Domain) + "/";
        return by switch
        {
            "domain" => l.DomainName(s.Domain),
            "process" => $"{dom}{l.ProcessName(s.Domain, s.Pid)} ({s.Pid})",
            "cpu" => "cpu" + s.Cpu.ToString(CultureInfo.InvariantCulture),
            _ => $"{dom}{l.ThreadName(s.Domain, s.Tid, s.Pid)} ({s.Tid})",
        };
    }

    private static WebCallGraph ToCallGraph(Profile.Profile p, CallGraphNode node, int ei)
    {
        long total = p.Totals[ei];
        List<WebArc> Arcs(IEnumerable<CallGraphArc> arcs) => arcs.Where(a => a.Counts.Samples[ei] > 0)
            .Select(a => new WebArc(a.Function.Symbol, a.Function.ImageName, Key(a.Function.Image, a.Function.Symbol), a.Counts.Samples[ei], Profile.Profile.Share(a.Counts.Samples[ei], total).Percent))
            .OrderByDescending(a => a.Samples).ThenBy(a => a.Image, StringComparer.Ordinal).ThenBy(a => a.Name, StringComparer.Ordinal).ToList();
        var f = node.Function;
        return new WebCallGraph(f.Symbol, f.ImageName, Key(f.Image, f.Symbol), node.Inclusive.Samples[ei], node.Self.Samples[ei], total, Arcs(node.Callers), Arcs(node.Callees));
    }

    // The flame tree of event ei; with minShare > 0, as Prune(…, minShare) leaves it, without making the nodes it drops.
    // Nodes live in flat arrays and one map from (parent node, frame number) to node: a system-wide session's 1.5 M nodes
    // as objects with a child map each kept the collector busy for seconds.
    // With keptOf (one slot per p.StackTotals row), each of the event's rows gets the index in the answer of the node its
    // samples end in, or ~index of the deepest kept node above it when that node was pruned.
    private static WebFlame BuildFlame(Profile.Profile p, int ei, double minShare = 0, int[]? keptOf = null)
    {
        var evId = p.Events[ei].Id;
        // Each distinct frame (name, kind, function) gets one number, once per location (and per process root), so the
        // walk over every stack looks children up by that number, not by three strings made again at each level.
        var frameIds = new Dictionary<(string, string, string?), int>();
        var locationIds = new int[p.Locations.Count];
        Array.Fill(locationIds, -1);
        var frames = new List<(string Name, string Kind, string? Fn)> { ("all", "unknown", null) };
        int FrameId(string name, string kind, string? fn)
        {
            if (!frameIds.TryGetValue((name, kind, fn), out var id)) { frameIds[(name, kind, fn)] = id = frames.Count; frames.Add((name, kind, fn)); }
            return id;
        }
        var roots = new Dictionary<(int, int, CommId), int>();
        var childOf = new Dictionary<(int Parent, int Frame), int>();
        List<int> frameOf = [0], parentOf = [-1];
        List<long> selfs = [0];
        int Child(int parent, int frame)
        {
            ref int n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(childOf, (parent, frame), out bool exists);
            if (!exists)
            {
                n = frameOf.Count;
                frameOf.Add(frame); parentOf.Add(parent); selfs.Add(0);
            }
            return n;
        }
        var leafOf = keptOf == null ? null : new int[p.StackTotals.Count];
        for (int k = 0; k < p.StackTotals.Count; k++)
        {
            var t = p.StackTotals[k];
            if (t.Event != evId) continue;
            if (!roots.TryGetValue((t.Domain, t.Pid, t.Comm), out var rootId))
                roots[(t.Domain, t.Pid, t.Comm)] = rootId = FrameId(p.Labels.RootName(t.Domain, t.Pid, t.Comm).Replace(' ', '_'), "process", null);
            int node = Child(0, rootId);
            var path = p.StackOf(t.Stack);
            for (int i = 0; i < path.Count; i++)
            {
                var l = path[i];
                ref int id = ref locationIds[l.Index];
                if (id < 0) id = FrameId(l.Name, KindName(l.Kind), Key(l.Image, l.Symbol ?? Profile.Profile.NoSymbols));
                node = Child(node, id);
            }
            selfs[node] += t.Weight;
            if (leafOf != null) leafOf[k] = node;
        }
        // A node's total is its self plus its children's; children are made after their parents.
        var totals = selfs.ToArray();
        for (int n = totals.Length - 1; n > 0; n--) totals[parentOf[n]] += totals[n];
        long min = minShare <= 0 ? 0 : Math.Max(1, (long)Math.Ceiling(totals[0] * minShare));

        // The kept children of each node, in the order they are drawn: most samples first, then by name, then the one
        // made last (the order of a stack of children pushed in ascending order and popped).
        int count = frameOf.Count;
        var first = new int[count + 1];
        for (int n = 1; n < count; n++) if (totals[n] >= min) first[parentOf[n] + 1]++;
        for (int n = 0; n < count; n++) first[n + 1] += first[n];
        var children = new int[first[count]];
        var fill = first.AsSpan(0, count).ToArray();
        for (int n = 1; n < count; n++) if (totals[n] >= min) children[fill[parentOf[n]]++] = n;
        Comparison<int> drawn = (x, y) =>
        {
            int c = totals[y].CompareTo(totals[x]);
            if (c == 0) c = string.CompareOrdinal(frames[frameOf[x]].Name, frames[frameOf[y]].Name);
            return c != 0 ? c : y.CompareTo(x);
        };

        var nodes = new List<WebFlameNode>();
        var pending = new Stack<(int Node, int Parent)>();
        var output = keptOf == null ? null : new int[count];
        pending.Push((0, -1));
        while (pending.Count > 0)
        {
            var (n, parent) = pending.Pop();
            int index = nodes.Count;
            if (output != null) output[n] = index + 1;
            var (name, kind, fn) = frames[frameOf[n]];
            nodes.Add(new WebFlameNode(name, kind, fn, parent, totals[n], selfs[n]));
            var kids = children.AsSpan(first[n], first[n + 1] - first[n]);
            kids.Sort(drawn);
            for (int i = kids.Length - 1; i >= 0; i--) pending.Push((kids[i], index));
        }
        if (keptOf != null)
        {
            for (int k = 0; k < keptOf.Length; k++)
            {
                if (p.StackTotals[k].Event != evId) { keptOf[k] = int.MinValue; continue; }
                int n = leafOf![k];
                while (output![n] == 0) n = parentOf[n];
                keptOf[k] = n == leafOf[k] ? output[n] - 1 : ~(output[n] - 1);
            }
        }
        return new WebFlame(totals[0], nodes);
    }

    // The width (ns) of each of `buckets` timeline buckets over the profile's samples: bucket i covers
    // [i × width, (i+1) × width) after the first sample, and the last sample falls in the last bucket.
    private static long BucketWidth(Profile.Profile p, int buckets) =>
        Math.Max(1, ((p.Samples.Count == 0 ? 0 : p.Samples[^1].TimeNs - p.FirstSampleNs) + buckets) / buckets);

    // gzip (RFC 1952) of `bytes`, as /api/window sends and the offline file embeds.
    internal static byte[] Gzip(ReadOnlySpan<byte> bytes, System.IO.Compression.CompressionLevel level)
    {
        var z = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(z, level)) gz.Write(bytes);
        return z.ToArray();
    }

    private static WebTimeline BuildTimeline(Profile.Profile p, int ei, string by, int buckets)
    {
        var evId = p.Events[ei].Id;
        long t0 = p.FirstSampleNs;
        long duration = p.Samples.Count == 0 ? 0 : p.Samples[^1].TimeNs - t0;
        long width = BucketWidth(p, buckets);
        var series = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var s in p.Samples)
        {
            if (s.Event != evId) continue;
            string name = LabelName(p, by, s);
            if (!series.TryGetValue(name, out var c)) series[name] = c = new long[buckets];
            c[Math.Clamp((int)((s.TimeNs - t0) / width), 0, buckets - 1)] += s.Weight;
        }
        var ordered = series.OrderByDescending(kv => kv.Value.Sum()).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var result = ordered.Take(MaxSeries).Select(kv => new WebSeries(kv.Key, kv.Value)).ToList();
        if (ordered.Count > MaxSeries)
        {
            var other = new long[buckets];
            foreach (var (_, c) in ordered.Skip(MaxSeries)) for (int i = 0; i < buckets; i++) other[i] += c[i];
            result.Add(new WebSeries($"{ordered.Count - MaxSeries} others", other));
        }
        return new WebTimeline(by, width, duration, result);
    }
}
