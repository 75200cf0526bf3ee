using System.Text.Json;
using System.Text.Json.Serialization;

namespace XenProf.Reporter.Web;

// The JSON view models of the browser report. Every one is computed from the profile model (aggregated counts, never
// raw samples) by WebSession, serialized through the source-generated WebJson context (no reflection, so the Native
// AOT build serves them too). Counts are sample weights as opreport counts them; times are ns after the session's
// first sample; percentages are of the selected event's total, with the binomial standard error in percentage points.

/// <summary>One event of the session.</summary>
/// <param name="Name">Event name (<c>CPU_CLOCK</c>…).</param>
/// <param name="Count">Sampling period, in the event's unit.</param>
/// <param name="Unit">What the count counts (ns, cycles…).</param>
/// <param name="Total">Samples of this event in the selection.</param>
public sealed record WebEvent(string Name, ulong Count, string Unit, long Total);

/// <summary><c>/api/summary</c>: what the session holds and which selection the other answers cover.</summary>
/// <param name="Events">Events in store order; the <c>event</c> parameter is an index into it.</param>
/// <param name="Event">The selected event's index.</param>
/// <param name="Meta">Session facts (hostname, kernel, cpu…).</param>
/// <param name="Counters">Lost, throttled, unknown-record counters.</param>
/// <param name="DurationNs">Time from the session's first to its last sample (ns).</param>
/// <param name="FromNs">Start of the selected window (ns after the first sample), or null for the whole session.</param>
/// <param name="ToNs">End of the selected window (exclusive), or null.</param>
/// <param name="Generation">Changes whenever the store changed and the profile was rebuilt.</param>
/// <param name="HasStacks">Whether samples carry callchains (call graph and flame graph beyond the leaf).</param>
/// <param name="Warnings">Symbolization warnings.</param>
/// <param name="Diff">In a differential report (<c>serve { BASE } { NEW }</c>), the base profile against which the
/// session (the new profile) is compared; null otherwise.</param>
public sealed record WebSummary(IReadOnlyList<WebEvent> Events, int Event, IReadOnlyDictionary<string, string> Meta, IReadOnlyDictionary<string, long> Counters,
    long DurationNs, long? FromNs, long? ToNs, long Generation, bool HasStacks, IReadOnlyList<string> Warnings,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WebDiffBase? Diff = null);

/// <summary>The base side of a differential report.</summary>
/// <param name="Base">How the base was named (its directory or trace file).</param>
/// <param name="New">How the new profile was named.</param>
/// <param name="BaseTotal">Base samples of the selected event (matched by name, as <c>opreport { A } { B }</c> matches events), or 0 when the base lacks it.</param>
/// <param name="Alpha">Family-wise significance level of the marks (Holm's procedure over each event's rows).</param>
public sealed record WebDiffBase(string Base, string New, long BaseTotal, double Alpha);

/// <summary>One row of the differential top table: <c>opreport -l { BASE } { NEW }</c>'s row (<see cref="Profile.DiffRow"/>).</summary>
/// <param name="Name">Symbol (symbol rows) or image name.</param>
/// <param name="Image">The image (symbol rows), else empty.</param>
/// <param name="Fn">The function's key in the new profile (for the call graph and disassembly, which show the new profile), or null (image rows, functions only the base has).</param>
/// <param name="BaseSamples">Samples in the base profile.</param>
/// <param name="BasePct">Of the base total, %.</param>
/// <param name="NewSamples">Samples in the new profile.</param>
/// <param name="NewPct">Of the new total, %.</param>
/// <param name="DeltaPp"><c>NewPct − BasePct</c>, percentage points.</param>
/// <param name="PValue">Two-sided p-value of the pooled two-proportion z-test, uncorrected.</param>
/// <param name="Significant">Rejected by Holm's procedure over the event's rows at <see cref="WebDiffTop.Alpha"/>.</param>
public sealed record WebDiffRow(string Name, string Image, string? Fn, long BaseSamples, double BasePct, long NewSamples, double NewPct, double DeltaPp, double PValue, bool Significant);

/// <summary><c>/api/diff</c>: the differential top table (<see cref="Profile.ProfileDiff"/>), largest change first.</summary>
/// <param name="By"><c>symbol</c> or <c>image</c>.</param>
/// <param name="BaseTotal">Base samples of the event.</param>
/// <param name="NewTotal">New samples of the event.</param>
/// <param name="Alpha">Significance level of the marks.</param>
/// <param name="Rows">Rows of either side, largest |delta| first.</param>
public sealed record WebDiffTop(string By, long BaseTotal, long NewTotal, double Alpha, IReadOnlyList<WebDiffRow> Rows);

/// <summary>One row of the top table.</summary>
/// <param name="Name">Symbol, image, domain, process or thread name.</param>
/// <param name="Image">The image (symbol rows), else empty.</param>
/// <param name="Kind">Frame kind of the row's code (<c>user</c>, <c>kernel</c>, <c>hypervisor</c>, <c>jit</c>, <c>guest</c>, <c>unknown</c>), or empty for label rows.</param>
/// <param name="Fn">Function key for <c>/api/callgraph</c> and <c>/api/annotate</c> (symbol rows), else null.</param>
/// <param name="Self">Samples in which the row is the leaf (or that carry the label).</param>
/// <param name="SelfPct">Self as % of the total.</param>
/// <param name="SelfErr">Binomial standard error of <paramref name="SelfPct"/>, percentage points.</param>
/// <param name="Total">Samples with the row anywhere on the stack (equal to self for labels).</param>
/// <param name="TotalPct">Total as % of the total.</param>
/// <param name="TotalErr">Binomial standard error of <paramref name="TotalPct"/>.</param>
public sealed record WebTopRow(string Name, string Image, string Kind, string? Fn, long Self, double SelfPct, double SelfErr, long Total, double TotalPct, double TotalErr);

/// <summary><c>/api/top</c>: the top table grouped by <paramref name="By"/>.</summary>
/// <param name="By"><c>symbol</c>, <c>image</c>, <c>domain</c>, <c>process</c> or <c>thread</c>.</param>
/// <param name="Total">The event's total samples in the selection.</param>
/// <param name="Rows">Rows, most self samples first (as opreport orders them).</param>
public sealed record WebTop(string By, long Total, IReadOnlyList<WebTopRow> Rows);

/// <summary>One node of the flame graph, in depth-first pre-order (a node before its children).</summary>
/// <param name="Name">Frame name (the root is <c>all</c>, depth 1 the process names).</param>
/// <param name="Kind">Frame kind (<c>process</c>, <c>user</c>, <c>kernel</c>, <c>hypervisor</c>, <c>jit</c>, <c>guest</c>, <c>unknown</c>).</param>
/// <param name="Fn">Function key of the frame (null for the root and process frames).</param>
/// <param name="Parent">Index of the parent node (-1 for the root).</param>
/// <param name="Total">Inclusive samples.</param>
/// <param name="Self">Samples ending here.</param>
/// <param name="Delta">In a differential report: the new profile's self samples here minus the base profile's at the
/// same frames (its own change, as FlameGraph's difffolded.pl gives each stack's); null otherwise.</param>
public sealed record WebFlameNode(string Name, string Kind, string? Fn, int Parent, long Total, long Self,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Delta = null);

/// <summary><c>/api/flame</c>: the stacks of the selected event merged into a tree (children by samples, descending).</summary>
/// <param name="Total">Samples of the root.</param>
/// <param name="Nodes">The nodes, root first.</param>
/// <param name="MaxDelta">In a differential report: the largest |delta| of any stack of either profile (at least 1),
/// which the colours scale by; null otherwise. Widths stay the new profile's, and stacks only the base has are not drawn.</param>
[JsonConverter(typeof(WebFlameJson))]
public sealed record WebFlame(long Total, IReadOnlyList<WebFlameNode> Nodes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? MaxDelta = null);

/// <summary>
/// The JSON of a <see cref="WebFlame"/>, compact because a big session's pruned tree has some 100,000 nodes that name a
/// few thousand frames: <c>{"total": N, "maxDelta": N?, "frames": [[name, kind, fn|null], …], "nodes": [[frame, parent,
/// total, self(, delta)], …]}</c>, nodes root first, <c>frame</c> an index into <c>frames</c>, <c>parent</c> −1 at the
/// root. As objects with their strings (120 bytes a node) it was 11.5 MB for 95,466 nodes, and the page spent a second
/// receiving and parsing it. Written only (the page reads it); reading throws <see cref="NotSupportedException"/>.
/// </summary>
public sealed class WebFlameJson : JsonConverter<WebFlame>
{
    /// <inheritdoc/>
    public override WebFlame Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the flame answer is written for the page, not read back");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter w, WebFlame value, JsonSerializerOptions options)
    {
        var frames = new Dictionary<(string, string, string?), int>();
        var order = new List<(string Name, string Kind, string? Fn)>();
        var index = new int[value.Nodes.Count];
        for (int i = 0; i < value.Nodes.Count; i++)
        {
            var n = value.Nodes[i];
            if (!frames.TryGetValue((n.Name, n.Kind, n.Fn), out var f)) { frames[(n.Name, n.Kind, n.Fn)] = f = order.Count; order.Add((n.Name, n.Kind, n.Fn)); }
            index[i] = f;
        }
        w.WriteStartObject();
        w.WriteNumber("total", value.Total);
        if (value.MaxDelta is { } max) w.WriteNumber("maxDelta", max);
        w.WriteStartArray("frames");
        foreach (var (name, kind, fn) in order)
        {
            w.WriteStartArray();
            w.WriteStringValue(name);
            w.WriteStringValue(kind);
            if (fn == null) w.WriteNullValue(); else w.WriteStringValue(fn);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("nodes");
        for (int i = 0; i < value.Nodes.Count; i++)
        {
            var n = value.Nodes[i];
            w.WriteStartArray();
            w.WriteNumberValue(index[i]);
            w.WriteNumberValue(n.Parent);
            w.WriteNumberValue(n.Total);
            w.WriteNumberValue(n.Self);
            if (n.Delta is { } d) w.WriteNumberValue(d);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>A caller or callee of the selected function, with the samples of the arc.</summary>
/// <param name="Name">Symbol name.</param>
/// <param name="Image">Image display name.</param>
/// <param name="Fn">Function key.</param>
/// <param name="Samples">Samples of the direct call (opreport <c>-c</c>'s count).</param>
/// <param name="Pct">Of the event's total.</param>
public sealed record WebArc(string Name, string Image, string Fn, long Samples, double Pct);

/// <summary><c>/api/callgraph</c>: one block of <c>opreport -c</c>.</summary>
/// <param name="Name">The function.</param>
/// <param name="Image">Its image.</param>
/// <param name="Fn">Its key.</param>
/// <param name="Inclusive">Samples with it on the stack.</param>
/// <param name="Self">Its own (leaf) samples.</param>
/// <param name="Total">The event's total.</param>
/// <param name="Callers">Direct callers, most samples first.</param>
/// <param name="Callees">Direct callees, most samples first.</param>
public sealed record WebCallGraph(string Name, string Image, string Fn, long Inclusive, long Self, long Total, IReadOnlyList<WebArc> Callers, IReadOnlyList<WebArc> Callees);

/// <summary>One annotated instruction.</summary>
/// <param name="Address">Address, hex without 0x (as objdump prints it).</param>
/// <param name="Text">objdump-style lines.</param>
/// <param name="Samples">Samples of the selected event at this instruction.</param>
/// <param name="Adjusted">Skid-adjusted samples.</param>
/// <param name="File">Source file, or null.</param>
/// <param name="Line">Source line (0 when unknown).</param>
/// <param name="Source">Source text, or null.</param>
public sealed record WebInstruction(string Address, IReadOnlyList<string> Text, long Samples, long Adjusted, string? File, int Line, string? Source);

/// <summary><c>/api/annotate</c>: opannotate's data for one function.</summary>
/// <param name="Name">The function.</param>
/// <param name="Image">Its image.</param>
/// <param name="Start">Start address, hex.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Samples">Its samples of the selected event.</param>
/// <param name="Total">The event's total.</param>
/// <param name="Problem">Why there is no disassembly, or null.</param>
/// <param name="SourceNote">Why there are no source lines, or null.</param>
/// <param name="Instructions">The instructions.</param>
public sealed record WebAnnotation(string Name, string Image, string Start, ulong Size, long Samples, long Total, string? Problem, string? SourceNote, IReadOnlyList<WebInstruction> Instructions);

/// <summary>One series of the timeline.</summary>
/// <param name="Name">Domain, CPU or thread name.</param>
/// <param name="Counts">Samples per bucket.</param>
public sealed record WebSeries(string Name, long[] Counts);

/// <summary><c>/api/timeline</c>: samples of the selected event over the whole session (never time-filtered, so a brushed window can be widened again).</summary>
/// <param name="By"><c>domain</c>, <c>cpu</c> or <c>thread</c>.</param>
/// <param name="BucketNs">Width of a bucket (ns); bucket i covers [i × BucketNs, (i+1) × BucketNs) after the first sample.</param>
/// <param name="DurationNs">Session duration.</param>
/// <param name="Series">Series, most samples first.</param>
public sealed record WebTimeline(string By, long BucketNs, long DurationNs, IReadOnlyList<WebSeries> Series);

/// <summary>An error answer: one line.</summary>
/// <param name="Error">What was wrong with the request.</param>
public sealed record WebError(string Error);

/// <summary>Source-generated JSON for the web view models (camelCase), usable under Native AOT.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(WebSummary))]
[JsonSerializable(typeof(WebTop))]
[JsonSerializable(typeof(WebDiffTop))]
[JsonSerializable(typeof(WebFlame))]
[JsonSerializable(typeof(WebCallGraph))]
[JsonSerializable(typeof(WebAnnotation))]
[JsonSerializable(typeof(WebTimeline))]
[JsonSerializable(typeof(WebError))]
public sealed partial class WebJson : JsonSerializerContext;
