using System.Text.Json;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Web;

public sealed partial class WebSession
{
    /// <summary>Functions per event whose call graph <c>/api/window</c> windows in the page (the others ask the server).</summary>
    public const int WindowFunctions = 200;

    /// <summary>
    /// <c>/api/window</c>: the window series of event <paramref name="q"/>.<see cref="WebQuery.Event"/> (the offline file's
    /// window block, <see cref="OfflineWindows"/>), gzip-compressed (RFC 1952): per bucket of the 200-bucket timeline, the
    /// samples of every row of <c>/api/top</c>, node of <c>/api/flame</c> and caller and callee of the
    /// <see cref="WindowFunctions"/> functions with the most samples on the stack, from which the page answers a brushed
    /// window of whole buckets without the server building a profile for it (seconds on a 1.5 M-sample session). Built
    /// once per session state, outside the lock that serializes the other answers, so they are not held up. Throws
    /// <see cref="WebQueryException"/> for a differential report or an unknown event.
    /// </summary>
    public byte[] WindowSeries(WebQuery q)
    {
        Lazy<byte[]> series = Locked(q with { FromNs = null, ToNs = null }, (_, full, ei) =>
        {
            if (_base != null) throw new WebQueryException("a differential report compares the whole sessions; time windows are not available");
            if (full.WindowSeries.TryGetValue(ei, out var known)) return known;
            var windows = Windows(q, OfflineReport.TimelineBuckets, MinFlameShare);
            var symbols = TopOf(full, ei, "symbol").Top;
            var nodes = full.Graph.Nodes.ToDictionary(n => Key(n.Function.Image, n.Function.Symbol));
            foreach (var r in symbols.Rows.Where(r => r.Fn != null).OrderByDescending(r => r.Total).ThenByDescending(r => r.Self).Take(WindowFunctions))
                windows.AddFunction(r.Fn!, ToCallGraph(full.Profile, nodes[r.Fn!], ei), null, null, new Dictionary<ulong, (int, int)>());
            return full.WindowSeries[ei] = new Lazy<byte[]>(() => Gzip(windows.Write().Window, System.IO.Compression.CompressionLevel.Fastest));
        });
        return series.Value;
    }

    /// <summary>
    /// <c>/api/window?fn=FN</c>: the window series of function <paramref name="fn"/>'s disassembly (<c>/api/annotate</c>'s
    /// instructions, whole session), gzip-compressed: per instruction, its samples and skid-adjusted samples per bucket
    /// of the 200-bucket timeline (the layout of <see cref="OfflineWindows"/>' instruction series). One pass over the
    /// event's samples. Throws <see cref="WebQueryException"/> as <see cref="Annotate"/> does.
    /// </summary>
    public byte[] AnnotateWindowSeries(WebQuery q, string fn) => Locked(q with { FromNs = null, ToNs = null }, (_, full, ei) =>
    {
        if (_base != null) throw new WebQueryException("a differential report compares the whole sessions; time windows are not available");
        var (answer, index) = AnnotateIndexed(q with { FromNs = null, ToNs = null }, fn);
        var p = full.Profile;
        var row = p.Symbols.First(r => Key(r.ImageRow.Image, r.Symbol) == fn);
        var inFn = p.Locations.Select(l => Key(l.Image, l.Symbol ?? Profile.Profile.NoSymbols) == fn).ToArray();
        var series = new SeriesSet(answer.Instructions.Count);
        var evId = p.Events[ei].Id;
        long t0 = p.FirstSampleNs;
        int buckets = OfflineReport.TimelineBuckets;
        long width = BucketWidth(p, buckets);
        foreach (var s in p.Samples)
        {
            if (s.Event != evId) continue;
            var path = p.StackOf(s.Stack);
            if (path.Count == 0 || !inFn[path[^1].Index]) continue;
            if (row.DetailAddress(path[^1]) is not { } vma || !index.TryGetValue(vma, out var ix)) continue;
            int b = (int)Math.Clamp((s.TimeNs - t0) / width, 0, buckets - 1);
            series.Add(ix.Raw, b, s.Weight, 0);
            series.Add(ix.Adjusted, b, 0, s.Weight);
        }
        var body = new MemoryStream();
        series.Write(body);
        return Gzip(body.GetBuffer().AsSpan(0, (int)body.Length), System.IO.Compression.CompressionLevel.Fastest);
    });

    /// <summary>
    /// The time-window data of the offline file for event <paramref name="q"/>.<see cref="WebQuery.Event"/> of the whole
    /// session: the timeline's <paramref name="buckets"/> buckets (the width <see cref="Timeline"/> gives them), and per
    /// bucket the samples of every top-table row, flame node and registered function (<see cref="OfflineWindows.AddFunction"/>),
    /// so that the page sums any run of buckets into the answers the server gives for that window. The flame graph is
    /// pruned at <paramref name="minFlameShare"/> (at least <see cref="MinFlameShare"/>, as <c>/api/flame</c> prunes).
    /// Throws <see cref="WebQueryException"/> for a differential report (it has no time windows).
    /// </summary>
    internal OfflineWindows Windows(WebQuery q, int buckets, double minFlameShare)
    {
        if (_base != null) throw new WebQueryException("a differential report compares the whole sessions; time windows are not available");
        return Locked(q with { FromNs = null, ToNs = null }, (_, full, ei) =>
        {
            var tops = TopGroupings.ToDictionary(by => by, by => TopOf(full, ei, by), StringComparer.Ordinal);
            var keptOf = new int[full.Profile.StackTotals.Count];
            var flame = BuildFlame(full.Profile, ei, Math.Max(MinFlameShare, minFlameShare), keptOf);
            return new OfflineWindows(full.Profile, ei, buckets, flame, keptOf, tops);
        });
    }

    /// <summary>
    /// Per-bucket sums of one event of a whole-session profile, for the offline page. Every series is a run of triples
    /// <c>(bucket, a, b)</c> (buckets ascending, only those with samples) aligned with a row of the embedded answer it
    /// windows:
    /// <list type="bullet">
    /// <item>per top-table row of each grouping: its self samples, and its samples anywhere on the stack;</item>
    /// <item>per flame node: the samples that end in it, and those that end in a child pruned from the file;</item>
    /// <item>per registered function: its node (inclusive, self), then each caller and each callee arc (samples, 0), in the
    /// order of its call graph answer;</item>
    /// <item>per function's disassembly (<see cref="Write"/>'s second result, a block of its own): per instruction
    /// (samples, skid-adjusted samples).</item>
    /// </list>
    /// The window block is binary: a 4-byte little-endian length, a JSON header (<c>bucketNs</c>, <c>buckets</c>, the row
    /// count of each top grouping, the flame's node count, and <c>[fn, callers, callees]</c> per function), the bucket
    /// totals as <c>buckets</c> varints, then every series: its triple count and its triples, as unsigned LEB128 varints
    /// with each bucket as the step from the one before. On a 1.5 M-sample system-wide session that is 1.5 MB compressed,
    /// against 2.4 MB as JSON. Sample counts are weights, as the answers count them.
    /// </summary>
    internal sealed class OfflineWindows
    {
        private readonly Profile.Profile _p;
        private readonly int _ei, _buckets;
        private readonly long _width;
        private readonly int[] _keptOf;
        private readonly Dictionary<string, (WebTop Top, string[] Keys)> _tops;
        private readonly List<Function> _functions = [];

        private sealed record Function(string Fn, WebCallGraph Graph, WebAnnotation? Full, WebAnnotation? Cut, IReadOnlyDictionary<ulong, (int Raw, int Adjusted)> Index);

        internal OfflineWindows(Profile.Profile p, int ei, int buckets, WebFlame flame, int[] keptOf, Dictionary<string, (WebTop, string[])> tops)
        {
            _p = p; _ei = ei; _buckets = buckets; Flame = flame; _keptOf = keptOf; _tops = tops;
            _width = BucketWidth(p, buckets);
        }

        /// <summary>The flame graph the <c>flame</c> series are aligned with (embed this one).</summary>
        public WebFlame Flame { get; }

        /// <summary>Samples whose stack total row was not found (0 unless the profile is inconsistent).</summary>
        public long Unmatched { get; private set; }

        /// <summary>
        /// Adds function <paramref name="fn"/>: its whole-session call graph answer, and its disassembly as computed
        /// (<paramref name="full"/>, with <paramref name="index"/> from <see cref="AnnotateIndexed"/>) and as embedded
        /// (<paramref name="cut"/>, a subset of <paramref name="full"/>'s instructions); null when it has none.
        /// </summary>
        public void AddFunction(string fn, WebCallGraph graph, WebAnnotation? full, WebAnnotation? cut, IReadOnlyDictionary<ulong, (int Raw, int Adjusted)> index) =>
            _functions.Add(new Function(fn, graph, full, cut, index));

        /// <summary>The window block's JSON, and each function's disassembly series (for functions with a disassembly).</summary>
        public (byte[] Window, List<(string Fn, byte[] Json)> Annotations) Write()
        {
            var p = _p;
            var evId = p.Events[_ei].Id;
            var totals = new long[_buckets];
            var rowOf = _tops.ToDictionary(kv => kv.Key, kv =>
            {
                var m = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i < kv.Value.Keys.Length; i++) m.TryAdd(kv.Value.Keys[i], i);
                return m;
            }, StringComparer.Ordinal);
            var sets = _tops.ToDictionary(kv => kv.Key, kv => new SeriesSet(kv.Value.Top.Rows.Count), StringComparer.Ordinal);
            var symbolSet = sets["symbol"];
            var imageSet = sets["image"];
            var flameSet = new SeriesSet(Flame.Nodes.Count);

            // Functions: a dense id per function key, its top row, and its registered function (or -1).
            var fnIds = new Dictionary<string, int>(StringComparer.Ordinal);
            var fnRow = new List<int>();
            var fnEmbedded = new List<int>();
            var locFn = new int[p.Locations.Count];
            int FnId(string key)
            {
                if (!fnIds.TryGetValue(key, out var id))
                {
                    fnIds[key] = id = fnRow.Count;
                    fnRow.Add(rowOf["symbol"].GetValueOrDefault(key, -1));
                    fnEmbedded.Add(-1);
                }
                return id;
            }
            // Each location's image as a dense number, and each image's top row.
            var imageIds = new Dictionary<ImageId, int>();
            var imageRowOf = new List<int>();
            var locImage = new int[p.Locations.Count];
            foreach (var l in p.Locations)
            {
                if (!imageIds.TryGetValue(l.Image.Id, out var d))
                {
                    imageIds[l.Image.Id] = d = imageRowOf.Count;
                    imageRowOf.Add(rowOf["image"].GetValueOrDefault(ImageKey(l.Image.Id), -1));
                }
                locImage[l.Index] = d;
                locFn[l.Index] = FnId(Key(l.Image, l.Symbol ?? Profile.Profile.NoSymbols));
            }
            var imageStamp = new int[imageRowOf.Count];

            // The registered functions: node series, arc series (numbered across all functions), instruction series.
            int nf = _functions.Count;
            var nodeSet = new SeriesSet(nf);
            var callerArc = new Dictionary<int, int>[nf];
            var calleeArc = new Dictionary<int, int>[nf];
            int arcs = 0;
            var annotation = new SeriesSet?[nf];
            var cutIndex = new int[nf][];
            var symbolRows = p.Symbols.GroupBy(r => Key(r.ImageRow.Image, r.Symbol)).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var fnSymbolRow = new SymbolRow?[nf];
            for (int e = 0; e < nf; e++)
            {
                var f = _functions[e];
                fnEmbedded[FnId(f.Fn)] = e;
                int Arcs(IReadOnlyList<WebArc> list, Dictionary<int, int> into)
                {
                    foreach (var a in list) into[FnId(a.Fn)] = arcs++;
                    return list.Count;
                }
                Arcs(f.Graph.Callers, callerArc[e] = []);
                Arcs(f.Graph.Callees, calleeArc[e] = []);
                if (f.Full != null && f.Cut != null && f.Cut.Instructions.Count > 0)
                {
                    var at = new Dictionary<string, int>(StringComparer.Ordinal);
                    for (int i = 0; i < f.Cut.Instructions.Count; i++) at[f.Cut.Instructions[i].Address] = i;
                    cutIndex[e] = f.Full.Instructions.Select(ins => at.GetValueOrDefault(ins.Address, -1)).ToArray();
                    annotation[e] = new SeriesSet(f.Cut.Instructions.Count);
                    fnSymbolRow[e] = symbolRows.GetValueOrDefault(f.Fn);
                }
            }
            var arcSet = new SeriesSet(arcs);
            var fnStamp = new int[fnRow.Count];
            var arcStamp = new int[arcs];
            int stamp = 0;

            void Stack(int bucket, int k, long w)
            {
                int kept = _keptOf[k];
                if (kept >= 0) flameSet.Add(kept, bucket, w, 0); else if (kept != int.MinValue) flameSet.Add(~kept, bucket, 0, w);
                var path = p.StackOf(p.StackTotals[k].Stack);
                if (path.Count == 0) return;
                stamp++;
                var leaf = path[^1];
                int leafFn = locFn[leaf.Index];
                symbolSet.Add(fnRow[leafFn], bucket, w, 0);
                imageSet.Add(imageRowOf[locImage[leaf.Index]], bucket, w, 0);
                int prev = -1;
                for (int i = 0; i < path.Count; i++)
                {
                    var l = path[i];
                    int f = locFn[l.Index];
                    if (fnStamp[f] != stamp)
                    {
                        fnStamp[f] = stamp;
                        symbolSet.Add(fnRow[f], bucket, 0, w);
                        if (fnEmbedded[f] is >= 0 and var fe) nodeSet.Add(fe, bucket, w, 0);
                    }
                    int image = locImage[l.Index];
                    if (imageStamp[image] != stamp)
                    {
                        imageStamp[image] = stamp;
                        imageSet.Add(imageRowOf[image], bucket, 0, w);
                    }
                    // A (caller, callee) arc counts once per sample; a function directly above itself is no arc.
                    if (prev >= 0 && prev != f)
                    {
                        if (fnEmbedded[f] is >= 0 and var callee && callerArc[callee].TryGetValue(prev, out var a) && arcStamp[a] != stamp) { arcStamp[a] = stamp; arcSet.Add(a, bucket, w, 0); }
                        if (fnEmbedded[prev] is >= 0 and var caller && calleeArc[caller].TryGetValue(f, out var c) && arcStamp[c] != stamp) { arcStamp[c] = stamp; arcSet.Add(c, bucket, w, 0); }
                    }
                    prev = f;
                }
                if (fnEmbedded[leafFn] is >= 0 and var le)
                {
                    nodeSet.Add(le, bucket, 0, w);
                    if (annotation[le] is { } ann && fnSymbolRow[le]?.DetailAddress(leaf) is { } vma && _functions[le].Index.TryGetValue(vma, out var ix))
                    {
                        ann.Add(cutIndex[le][ix.Raw], bucket, w, 0);
                        ann.Add(cutIndex[le][ix.Adjusted], bucket, 0, w);
                    }
                }
            }

            var stackRow = new Dictionary<(int, int, CommId, StackId), int>();
            for (int k = 0; k < p.StackTotals.Count; k++)
            {
                var t = p.StackTotals[k];
                if (t.Event == evId) stackRow.TryAdd((t.Domain, t.Pid, t.Comm, t.Stack), k);
            }
            var labelRows = new Dictionary<(int, int, int), (int Domain, int Process, int Thread)>();
            var pending = new Dictionary<int, long>();
            int current = -1;
            void Flush()
            {
                foreach (var (k, w) in pending) Stack(current, k, w);
                pending.Clear();
            }
            long t0 = p.FirstSampleNs;
            foreach (var s in p.Samples)
            {
                if (s.Event != evId) continue;
                int b = (int)Math.Clamp((s.TimeNs - t0) / _width, 0, _buckets - 1);
                if (b != current) { Flush(); current = b; }
                totals[b] += s.Weight;
                if (stackRow.TryGetValue((s.Domain, s.Pid, s.Comm, s.Stack), out var k)) pending[k] = pending.GetValueOrDefault(k) + s.Weight;
                else Unmatched += s.Weight;
                if (!labelRows.TryGetValue((s.Domain, s.Pid, s.Tid), out var lr))
                    labelRows[(s.Domain, s.Pid, s.Tid)] = lr = (rowOf["domain"].GetValueOrDefault(LabelName(p, "domain", s), -1),
                        rowOf["process"].GetValueOrDefault(LabelName(p, "process", s), -1), rowOf["thread"].GetValueOrDefault(LabelName(p, "thread", s), -1));
                sets["domain"].Add(lr.Domain, b, s.Weight, s.Weight);
                sets["process"].Add(lr.Process, b, s.Weight, s.Weight);
                sets["thread"].Add(lr.Thread, b, s.Weight, s.Weight);
            }
            Flush();

            // The header names what the series are, in order; the body holds them (see the class's remarks).
            var header = new MemoryStream();
            using (var j = new Utf8JsonWriter(header))
            {
                j.WriteStartObject();
                j.WriteNumber("bucketNs", _width);
                j.WriteNumber("buckets", _buckets);
                j.WriteStartObject("top");
                foreach (var by in TopGroupings) j.WriteNumber(by, sets[by].Rows);
                j.WriteEndObject();
                j.WriteNumber("flame", flameSet.Rows);
                j.WriteStartArray("callgraph");
                foreach (var f in _functions)
                {
                    j.WriteStartArray();
                    j.WriteStringValue(f.Fn);
                    j.WriteNumberValue(f.Graph.Callers.Count);
                    j.WriteNumberValue(f.Graph.Callees.Count);
                    j.WriteEndArray();
                }
                j.WriteEndArray();
                j.WriteEndObject();
            }
            var body = new MemoryStream();
            body.Write(BitConverter.GetBytes((uint)header.Length)); // little-endian on every platform .NET runs here
            header.WriteTo(body);
            foreach (var t in totals) SeriesSet.Varint(body, t);
            foreach (var by in TopGroupings) sets[by].Write(body);
            flameSet.Write(body);
            for (int e = 0; e < nf; e++)
            {
                var f = _functions[e];
                nodeSet.WriteRow(body, e);
                foreach (var a in f.Graph.Callers) arcSet.WriteRow(body, callerArc[e][fnIds[a.Fn]]);
                foreach (var a in f.Graph.Callees) arcSet.WriteRow(body, calleeArc[e][fnIds[a.Fn]]);
            }
            var annotations = new List<(string, byte[])>();
            for (int e = 0; e < nf; e++)
            {
                if (annotation[e] is not { } ann) continue;
                var m = new MemoryStream();
                ann.Write(m);
                annotations.Add((_functions[e].Fn, m.ToArray()));
            }
            return (body.ToArray(), annotations);
        }
    }

    // Rows of flat [bucket, a, b, …] triples, appended in bucket order (a bucket seen again adds to its triple).
    private sealed class SeriesSet(int rows)
    {
        private readonly List<long>?[] _data = new List<long>?[rows];
        private readonly int[] _last = Enumerable.Repeat(-1, rows).ToArray();

        public void Add(int row, int bucket, long a, long b)
        {
            if (row < 0) return;
            var d = _data[row] ??= [];
            if (_last[row] == bucket) { d[^2] += a; d[^1] += b; return; }
            d.Add(bucket); d.Add(a); d.Add(b);
            _last[row] = bucket;
        }

        public int Rows => _data.Length;

        // One series: its count of triples, then each triple as LEB128 varints (the bucket as the step from the previous one).
        public void WriteRow(Stream o, int row)
        {
            var d = _data[row];
            Varint(o, d == null ? 0 : d.Count / 3);
            if (d == null) return;
            long last = 0;
            for (int i = 0; i < d.Count; i += 3)
            {
                Varint(o, d[i] - last);
                last = d[i];
                Varint(o, d[i + 1]);
                Varint(o, d[i + 2]);
            }
        }

        public void Write(Stream o)
        {
            for (int r = 0; r < _data.Length; r++) WriteRow(o, r);
        }

        public static void Varint(Stream o, long v)
        {
            ulong u = (ulong)v;
            while (u >= 0x80) { o.WriteByte((byte)(u | 0x80)); u >>= 7; }
            o.WriteByte((byte)u);
        }
    }
}
