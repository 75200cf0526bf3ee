using XenProf.Reporter.Profile;
using System.Text.Json;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Writes Chrome's Trace Event Format, object form (the Trace Event Format document, linked from catapult's docs/trace-event-format.md), for chrome://tracing and
/// Perfetto's UI: one process track per (domain, pid) and one thread track per tid, named by metadata
/// events and sorted by domain; each selected sample is one complete (<c>ph:"X"</c>) event named after its
/// sampled frame, lasting until the thread's next sample (at most one sampling period), with <c>sf</c>
/// pointing into a <c>stackFrames</c> table so chrome://tracing shows the whole stack.
/// </summary>
/// <remarks>
/// Trace pids and tids are numbers, so several domains' pid spaces are folded into one by
/// <see cref="TrackId"/>: <c>domain × 2^22 + id</c> (2^22 is Linux's largest pid_max), which keeps dom0's ids unchanged.
/// </remarks>
public static class ChromeTraceWriter
{
    /// <summary>The number of distinct ids one domain gets in the trace's pid and tid space.</summary>
    public const long DomainStride = 1L << 22;

    private const int FlushBytes = 1 << 20;

    /// <summary>The trace id of <paramref name="id"/> (a pid or tid) in <paramref name="domain"/>.</summary>
    public static long TrackId(int domain, int id) => domain * DomainStride + id;

    /// <summary>
    /// Writes the selected samples (every event unless the selection names one) to <paramref name="output"/>. Each event's
    /// <c>args</c> carry the sample's <c>samples</c> and <c>period</c> (the event's unit) and, as <c>weight</c>, the one
    /// <paramref name="weight"/> picks (period by default). A time event's sample lasts at most its own period.
    /// </summary>
    public static void Write(FlameSource source, FlameSelection selection, Stream output, FoldedWeight weight = FoldedWeight.Period)
    {
        var events = source.EventsOf(selection).ToDictionary(e => e.Id);
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteString("displayTimeUnit", "ms");
        w.WriteStartArray("traceEvents");

        var processes = new HashSet<(int, int)>();
        var threads = new HashSet<(int, int)>();
        var stacks = new HashSet<StackId>();
        var pending = new Dictionary<(int, int), (StoredSample Sample, double CapUs)>();
        long samples = 0;

        foreach (var s in source.Samples(selection))
        {
            if (!events.TryGetValue(s.Event, out var ev)) continue;
            samples++;
            if (processes.Add((s.Domain, s.Pid)))
            {
                Meta(w, "process_name", s.Domain, s.Pid, null, $"{source.ProcessName(s.Domain, s.Pid)} ({source.DomainName(s.Domain)} pid {s.Pid})");
                MetaSort(w, "process_sort_index", s.Domain, s.Pid, null, s.Domain);
            }
            if (threads.Add((s.Domain, s.Tid)))
                Meta(w, "thread_name", s.Domain, s.Pid, s.Tid, $"{source.ThreadName(s.Domain, s.Tid, s.Pid)} (tid {s.Tid})");
            for (var st = s.Stack; st.Value != 0 && stacks.Add(st); st = ParentOf(source, st)) { }

            double capUs = EventPeriod.Of(ev).IsTime ? s.Period / 1000.0 : 1000.0;
            var thread = (s.Domain, s.Tid);
            if (pending.Remove(thread, out var prev))
                Complete(w, source, events, weight, prev.Sample, Math.Min(prev.CapUs, (s.TimeNs - prev.Sample.TimeNs) / 1000.0));
            pending[thread] = (s, capUs);
            if (w.BytesPending > FlushBytes) w.Flush(); // Utf8JsonWriter keeps everything until flushed
        }
        foreach (var (sample, cap) in pending.Values) Complete(w, source, events, weight, sample, cap);
        w.WriteEndArray();

        w.WriteStartObject("stackFrames");
        foreach (var st in stacks.OrderBy(x => x.Value))
        {
            var frames = source.StackOf(st);
            var leaf = frames[^1];
            w.WriteStartObject(st.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("category", Category(leaf.Kind));
            w.WriteString("name", leaf.Name);
            var parent = ParentOf(source, st);
            if (parent.Value != 0) w.WriteString("parent", parent.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        w.WriteEndObject();

        w.WriteStartObject("otherData");
        w.WriteString("exporter", "xenoprof");
        w.WriteString("events", string.Join(", ", events.Values.Select(e => $"{e.Name}:{e.Count}")));
        w.WriteNumber("samples", samples);
        foreach (var (k, v) in source.Meta) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static StackId ParentOf(FlameSource source, StackId stack) => source.ParentStack(stack);

    private static void Complete(Utf8JsonWriter w, FlameSource source, Dictionary<EventId, StoredEvent> events, FoldedWeight weight, StoredSample s, double durUs)
    {
        var frames = source.StackOf(s.Stack);
        var leaf = frames[^1];
        w.WriteStartObject();
        w.WriteString("name", leaf.Name);
        w.WriteString("cat", Category(leaf.Kind));
        w.WriteString("ph", "X");
        w.WriteNumber("ts", s.TimeNs / 1000.0);
        w.WriteNumber("dur", Math.Max(0.001, durUs));
        w.WriteNumber("pid", TrackId(s.Domain, s.Pid));
        w.WriteNumber("tid", TrackId(s.Domain, s.Tid));
        w.WriteString("sf", s.Stack.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteStartObject("args");
        w.WriteString("event", events[s.Event].Name);
        w.WriteNumber("domain", s.Domain);
        w.WriteNumber("cpu", s.Cpu);
        w.WriteNumber("weight", weight == FoldedWeight.Period ? s.Period : s.Weight);
        w.WriteNumber("samples", s.Weight);
        w.WriteNumber("period", s.Period);
        w.WriteString("image", leaf.ImageName);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Meta(Utf8JsonWriter w, string name, int domain, int pid, int? tid, string value) =>
        Meta(w, name, domain, pid, tid, a => a.WriteString("name", value));

    private static void MetaSort(Utf8JsonWriter w, string name, int domain, int pid, int? tid, int index) =>
        Meta(w, name, domain, pid, tid, a => a.WriteNumber("sort_index", index));

    /// <summary>A metadata ("ph":"M") event for a process or thread track, its args written by <paramref name="args"/>.</summary>
    private static void Meta(Utf8JsonWriter w, string name, int domain, int pid, int? tid, Action<Utf8JsonWriter> args)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("ph", "M");
        w.WriteNumber("pid", TrackId(domain, pid));
        if (tid != null) w.WriteNumber("tid", TrackId(domain, tid.Value));
        w.WriteStartObject("args");
        args(w);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The trace category of a frame kind: <c>hypervisor</c>, <c>kernel</c>, <c>user</c>, <c>jit</c>, <c>guest</c>, <c>unknown</c>.</summary>
    public static string Category(FrameKind kind) => kind switch
    {
        FrameKind.Hypervisor => "hypervisor",
        FrameKind.Kernel => "kernel",
        FrameKind.Jit => "jit",
        FrameKind.Guest => "guest",
        FrameKind.Unknown => "unknown",
        _ => "user",
    };
}
