using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace XenProf.Reporter.Web;

/// <summary>What <see cref="OfflineReport"/> put in the file.</summary>
/// <param name="Events">Events embedded (every event of the session).</param>
/// <param name="Functions">Functions per event whose call graph and disassembly are embedded (at most <see cref="OfflineReportOptions.MaxFunctions"/>).</param>
/// <param name="Bytes">Size of the file written, bytes.</param>
public sealed record OfflineReportStats(int Events, int Functions, long Bytes);

/// <summary>Options of the offline file.</summary>
public sealed record OfflineReportOptions
{
    /// <summary>The defaults: the app's own title, 200 functions.</summary>
    public static readonly OfflineReportOptions Default = new();

    /// <summary>The page's title, or null for the app's (<c>XenProf report</c>).</summary>
    public string? Title { get; init; }

    /// <summary>
    /// How many functions per event get their call graph (<c>/api/callgraph</c>) and disassembly (<c>/api/annotate</c>)
    /// embedded: those with the most samples on the stack (the top table's total column), 200 by default. Selecting any
    /// other function shows that its data is not in the file.
    /// </summary>
    public int MaxFunctions { get; init; } = 200;

    /// <summary>
    /// The flame graph's frames embedded are those with at least this share of all samples (a fraction, default
    /// 1/100,000: 15 samples of 1.5 M). A frame's total is at least its children's, so what is kept is a tree. The page
    /// draws a frame only when it is at least a pixel wide (1/672 of the frame zoomed into at 1400 pixels), so nothing is
    /// missing until a zoom below 1 % of the graph; a busy system-wide recording has about a million frames of one or two samples, which would
    /// make the file hundreds of MB. 0 keeps every frame.
    /// </summary>
    public double MinFlameShare { get; init; } = 1e-5;

    /// <summary>
    /// The most instructions one function's embedded disassembly holds (default 1,000). A longer function keeps the
    /// instructions with samples (or skid-adjusted samples) and <see cref="AnnotationContext"/> on each side of them, the
    /// hottest first, and its note says how many of how many are there: a function recovered in a stripped library can
    /// run to 18,000 instructions (2.7 MB of JSON), and the 200 functions of a system-wide session were 17 of the file's
    /// 25 MB. 0 keeps every instruction.
    /// </summary>
    public int MaxInstructions { get; init; } = 1000;

    /// <summary>Instructions kept before and after each one with samples when a function is cut to <see cref="MaxInstructions"/> (default 8).</summary>
    public int AnnotationContext { get; init; } = 8;
}

/// <summary>
/// The browser report of <c>xenoprof serve</c> as one self-contained HTML file for <c>flame --format html</c>: the same
/// page (<see cref="WebApp"/>), its script and style inlined, and the JSON answers it would fetch computed in advance by
/// <see cref="WebSession"/> and embedded in a <c>&lt;script type="application/json" id="xenprof-data"&gt;</c> block, which
/// the page's data layer reads when it finds it. Embedded, for every event: the summary, the top table per grouping,
/// the flame graph (frames of at least <see cref="OfflineReportOptions.MinFlameShare"/> of the samples), the timeline per
/// grouping (200 buckets), and the call graph and disassembly of the
/// <see cref="OfflineReportOptions.MaxFunctions"/> functions with the most samples. Time windows are runs of the
/// timeline's buckets: blocks after the script (<see cref="WindowView"/>) hold each bucket's samples per row, node, arc
/// and instruction of those answers, and the page sums them into the answers the server gives for that window. A
/// Content-Security-Policy meta tag allows only the page's own inline script (by its SHA-256) and no network at all.
/// </summary>
public static class OfflineReport
{
    /// <summary>The id of the embedded data block.</summary>
    public const string DataId = "xenprof-data";

    /// <summary>
    /// The media type of the data blocks: gzip-compressed JSON (RFC 1952), in base64 (RFC 4648) so that no byte can end
    /// the block. A system-wide session's 14 MB of JSON is 2.5 MB so, and Chromium took 1 s longer to parse the page
    /// around the plain text than to inflate it (<see cref="ReadData"/> reads a block back).
    /// </summary>
    public const string DataType = "application/x-xenprof-json-gzip-base64";

    /// <summary>
    /// The media type of the time-window blocks (<see cref="WindowView"/>, <see cref="AnnotateWindowView"/>): per-bucket
    /// series in varints (the layout is <c>WebSession.OfflineWindows</c>'), gzip-compressed, in base64.
    /// </summary>
    public const string SeriesType = "application/x-xenprof-series-gzip-base64";

    /// <summary>The JSON of the data block (<see cref="DataId"/>) of the offline file's <paramref name="html"/>, or null when it has none.</summary>
    public static string? ReadData(string html)
    {
        string open = $"<script type=\"{DataType}\" id=\"{DataId}\">";
        int at = html.IndexOf(open, StringComparison.Ordinal);
        if (at < 0) return null;
        return Unpack(html, at + open.Length);
    }

    /// <summary>
    /// The JSON of answer <paramref name="view"/>/<paramref name="key"/> (e.g. <c>top</c>, <c>0:image</c>) of the offline
    /// file's <paramref name="html"/>, from its own block (<see cref="LazyViews"/>) or the data block; null when the file
    /// does not hold it.
    /// </summary>
    public static string? ReadView(string html, string view, string key)
    {
        string open = $"<script type=\"{DataType}\" data-view=\"{view}\" data-key=\"{WebUtility.HtmlEncode(key)}\">";
        int at = html.IndexOf(open, StringComparison.Ordinal);
        if (at >= 0) return Unpack(html, at + open.Length);
        if (ReadData(html) is not { } data) return null;
        using var doc = JsonDocument.Parse(data);
        return doc.RootElement.GetProperty("views").TryGetProperty(view, out var v) && v.TryGetProperty(key, out var answer) ? answer.GetRawText() : null;
    }

    /// <summary>The keys of <paramref name="view"/>'s answers in the offline file's <paramref name="html"/>, wherever each is embedded.</summary>
    public static IReadOnlyList<string> Keys(string html, string view)
    {
        var keys = System.Text.RegularExpressions.Regex.Matches(html, $"<script type=\"{System.Text.RegularExpressions.Regex.Escape(DataType)}\" data-view=\"{view}\" data-key=\"([^\"]*)\">")
            .Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        if (ReadData(html) is { } data)
        {
            using var doc = JsonDocument.Parse(data);
            if (doc.RootElement.GetProperty("views").TryGetProperty(view, out var v)) keys.AddRange(v.EnumerateObject().Select(p => p.Name));
        }
        return keys;
    }

    private static string Unpack(string html, int from)
    {
        int to = html.IndexOf("</script>", from, StringComparison.Ordinal);
        using var gz = new System.IO.Compression.GZipStream(new MemoryStream(Convert.FromBase64String(html[from..to])), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Pack(ReadOnlySpan<byte> json) =>
        Convert.ToBase64String(WebSession.Gzip(json, System.IO.Compression.CompressionLevel.Optimal));

    /// <summary>
    /// The views embedded outside the data block, one <c>&lt;script type="…" data-view="VIEW" data-key="KEY"&gt;</c> per
    /// answer after the page's script, which the page inflates only when it shows that answer: each function's
    /// disassembly and call graph, and the top table's groupings other than per symbol. On a system-wide session they are
    /// most of the file, and parsing them with the rest kept the first render above 2 s.
    /// </summary>
    public static readonly IReadOnlySet<string> LazyViews = new HashSet<string>(StringComparer.Ordinal) { "annotate", "callgraph", "top" };

    /// <summary>
    /// The views of the time windows, each in blocks of its own that the page inflates on the first brushed window:
    /// <c>window</c> (key <c>EVENT:</c>) holds per timeline bucket the samples of every top-table row, flame node and
    /// embedded call graph; <c>annotate-window</c> (key <c>EVENT:FN</c>) those of each embedded instruction
    /// (<see cref="SeriesType"/>). A window offline is a run of whole buckets, summed in the page, which then shows what
    /// the server answers for that window.
    /// </summary>
    public const string WindowView = "window", AnnotateWindowView = "annotate-window";

    /// <summary>Timeline buckets embedded, as many as the page asks the server for.</summary>
    public const int TimelineBuckets = 200;

    /// <summary>
    /// Writes the offline report of session <paramref name="sessionDir"/> to <paramref name="output"/>. Throws
    /// <see cref="XenProf.Sampler.Store.StoreException"/> when the directory holds no session store.
    /// </summary>
    public static OfflineReportStats Write(string sessionDir, Stream output, OfflineReportOptions? options = null)
    {
        using var session = new WebSession(sessionDir);
        return Write(session, output, options);
    }

    /// <summary>
    /// Writes the offline report of <paramref name="session"/> to <paramref name="output"/>. A differential session
    /// embeds the differential table (<c>/api/diff</c> per symbol and image) in place of the top table, and its flame
    /// graph carries the changes.
    /// </summary>
    public static OfflineReportStats Write(WebSession session, Stream output, OfflineReportOptions? options = null)
    {
        options ??= OfflineReportOptions.Default;
        var data = new MemoryStream();
        int events, functions = 0;
        List<(string View, string Key, byte[] Json)> lazy = [];
        using (var j = new Utf8JsonWriter(data))
        {
            j.WriteStartObject();
            j.WriteNumber("maxFunctions", options.MaxFunctions);
            var first = session.Summary(new WebQuery());
            events = first.Events.Count;
            j.WriteStartObject("views");
            var views = new Dictionary<string, List<(string Key, byte[] Json)>>(StringComparer.Ordinal);
            void Add<T>(string view, string key, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
            {
                if (!views.TryGetValue(view, out var list)) views[view] = list = [];
                list.Add((key, JsonSerializer.SerializeToUtf8Bytes(value, type)));
            }
            for (int e = 0; e < events; e++)
            {
                var q = new WebQuery(e);
                string ev = e.ToString(CultureInfo.InvariantCulture);
                Add("summary", ev + ":", session.Summary(q), WebJson.Default.WebSummary);
                var symbols = session.Top(q, "symbol");
                if (session.IsDiff)
                {
                    foreach (var by in new[] { "symbol", "image" })
                    {
                        try { Add("diff", ev + ":" + by, session.Diff(q, by), WebJson.Default.WebDiffTop); }
                        catch (WebQueryException x) when (x.Status == 404) { } // the base lacks this event: the page says so
                    }
                }
                else
                {
                    foreach (var by in WebSession.TopGroupings)
                        Add("top", ev + ":" + by, by == "symbol" ? symbols : session.Top(q, by), WebJson.Default.WebTop);
                }
                var windows = session.IsDiff ? null : session.Windows(q, TimelineBuckets, options.MinFlameShare);
                Add("flame", ev + ":", windows?.Flame ?? WebSession.Prune(session.Flame(q), options.MinFlameShare), WebJson.Default.WebFlame);
                foreach (var by in WebSession.TimelineGroupings)
                    Add("timeline", ev + ":" + by, session.Timeline(q, by, TimelineBuckets), WebJson.Default.WebTimeline);
                var chosen = symbols.Rows.Where(r => r.Fn != null).OrderByDescending(r => r.Total).ThenByDescending(r => r.Self)
                    .Take(options.MaxFunctions).Select(r => r.Fn!).ToList();
                functions = Math.Max(functions, chosen.Count);
                foreach (var fn in chosen)
                {
                    var graph = session.CallGraph(q, fn);
                    Add("callgraph", ev + ":" + fn, graph, WebJson.Default.WebCallGraph);
                    // Functions that only call others have no row of their own to disassemble (the server answers 404).
                    WebAnnotation? full = null, cut = null;
                    IReadOnlyDictionary<ulong, (int, int)> index = new Dictionary<ulong, (int, int)>();
                    try { (full, index) = session.AnnotateIndexed(q, fn); }
                    catch (WebQueryException x) when (x.Status == 404) { }
                    if (full != null) Add("annotate", ev + ":" + fn, cut = Cut(full, options), WebJson.Default.WebAnnotation);
                    windows?.AddFunction(fn, graph, full, cut, index);
                }
                if (windows != null)
                {
                    var (window, annotations) = windows.Write();
                    lazy.Add((WindowView, ev + ":", window));
                    foreach (var (fn, json) in annotations) lazy.Add((AnnotateWindowView, ev + ":" + fn, json));
                }
            }
            // Disassembly, call graphs and the other top tables (most of the file) go in blocks of their own, below.
            foreach (var view in LazyViews)
            {
                if (!views.TryGetValue(view, out var list)) continue;
                // The first page shows the per-symbol top table: it stays in the data block.
                bool Stays((string Key, byte[] Json) x) => view == "top" && x.Key.EndsWith(":symbol", StringComparison.Ordinal);
                lazy.AddRange(list.Where(x => !Stays(x)).Select(x => (view, x.Key, x.Json)));
                list.RemoveAll(x => !Stays(x));
                if (list.Count == 0) views.Remove(view);
            }
            foreach (var (view, list) in views)
            {
                j.WriteStartObject(view);
                foreach (var (key, json) in list)
                {
                    j.WritePropertyName(key);
                    j.WriteRawValue(json, skipInputValidation: true);
                }
                j.WriteEndObject();
            }
            j.WriteEndObject();
            j.WriteEndObject();
        }

        string js = Text("app.js"), css = Text("app.css"), html = Text("index.html");
        string hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(js)));
        string csp = $"default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; img-src data:";
        html = Replace(html, "<link rel=\"stylesheet\" href=\"app.css\">",
            $"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n<style>\n{css}</style>");
        if (options.Title != null) html = Replace(html, "<title>XenProf report</title>", $"<title>{WebUtility.HtmlEncode(options.Title)}</title>");
        int script = html.IndexOf("<script src=\"app.js\"></script>", StringComparison.Ordinal);
        if (script < 0) throw new InvalidOperationException("index.html has no <script src=\"app.js\"> to inline");

        long start = output.CanSeek ? output.Position : 0;
        var utf8 = new UTF8Encoding(false);
        output.Write(utf8.GetBytes(html[..script] + $"<script type=\"{DataType}\" id=\"{DataId}\">"));
        output.Write(utf8.GetBytes(Pack(data.GetBuffer().AsSpan(0, (int)data.Length))));
        output.Write(utf8.GetBytes("</script>\n"));
        // The page's script runs before the parser reaches the lazy blocks, so it draws without waiting for them.
        output.Write(utf8.GetBytes($"<script>{js}</script>\n"));
        foreach (var (view, key, json) in lazy)
        {
            string type = view is WindowView or AnnotateWindowView ? SeriesType : DataType;
            output.Write(utf8.GetBytes($"<script type=\"{type}\" data-view=\"{view}\" data-key=\"{WebUtility.HtmlEncode(key)}\">"));
            output.Write(utf8.GetBytes(Pack(json)));
            output.Write(utf8.GetBytes("</script>\n"));
        }
        output.Write(utf8.GetBytes(html[(script + "<script src=\"app.js\"></script>".Length)..]));
        output.Flush();
        return new OfflineReportStats(events, functions, output.CanSeek ? output.Position - start : 0);
    }

    /// <summary>
    /// <paramref name="a"/> with at most <see cref="OfflineReportOptions.MaxInstructions"/> instructions (in address order):
    /// windows of <see cref="OfflineReportOptions.AnnotationContext"/> instructions around those with samples, the hottest
    /// first, and a note of what was left out.
    /// </summary>
    internal static WebAnnotation Cut(WebAnnotation a, OfflineReportOptions options)
    {
        var ins = a.Instructions;
        int max = options.MaxInstructions;
        if (max <= 0 || ins.Count <= max) return a;
        var keep = new bool[ins.Count];
        int kept = 0, context = Math.Max(0, options.AnnotationContext);
        var hot = Enumerable.Range(0, ins.Count).Where(i => ins[i].Samples > 0 || ins[i].Adjusted > 0)
            .OrderByDescending(i => ins[i].Samples + ins[i].Adjusted).ThenBy(i => i);
        foreach (int h in hot)
        {
            int from = Math.Max(0, h - context), to = Math.Min(ins.Count - 1, h + context);
            int add = 0;
            for (int i = from; i <= to; i++) if (!keep[i]) add++;
            if (kept + add > max) break;
            for (int i = from; i <= to; i++) keep[i] = true;
            kept += add;
        }
        var list = ins.Where((_, i) => keep[i]).ToList();
        string note = $"this offline file holds {list.Count} of the function's {ins.Count} instructions (those with samples and {context} on each side of them; "
                      + "xenoprof serve shows them all)";
        return a with { Instructions = list, Problem = a.Problem == null ? note : a.Problem + "; " + note };
    }

    private static string Text(string asset) => Encoding.UTF8.GetString(WebApp.Asset(asset)!.Value.Bytes);

    private static string Replace(string html, string marker, string with) => html.Contains(marker, StringComparison.Ordinal)
        ? html.Replace(marker, with, StringComparison.Ordinal)
        : throw new InvalidOperationException($"index.html has no {marker} to replace");
}
