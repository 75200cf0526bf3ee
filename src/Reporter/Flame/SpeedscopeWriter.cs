using XenProf.Reporter.Profile;
using System.Text.Json;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Writes speedscope's file format (jlfwong/speedscope src/lib/file-format-spec.ts; speedscope 1.25's file-format-schema.json):
/// a shared frame table and one <c>sampled</c> profile per (domain, pid, tid), samples in time order,
/// stacks root first, weights in the event's unit. Because the samples keep their order, speedscope's
/// "Time Order" view is a true flame chart of each thread. A profile without samples (<see cref="FlameSource.HasSamples"/>:
/// the fleet database's per-stack sums) gives one <c>sampled</c> profile per (domain, pid, thread name) with one entry per
/// stack weighing its sum: the "Left Heavy" and "Sandwich" views are exact, the "Time Order" view has no time in it.
/// </summary>
public static class SpeedscopeWriter
{
    /// <summary>The value the format requires in <c>$schema</c>; speedscope detects the format by it.</summary>
    public const string SchemaUrl = "https://www.speedscope.app/file-format-schema.json";

    /// <summary>
    /// Writes the samples of one event (the selection's, else the session's first) to <paramref name="output"/>.
    /// A sample's weight is its stored period (<paramref name="weight"/> <see cref="FoldedWeight.Period"/>, the default):
    /// nanoseconds for time events (unit <c>ns</c>), event counts otherwise (speedscope unit <c>none</c>); or its
    /// sample count (<see cref="FoldedWeight.Samples"/>, unit <c>none</c>).
    /// </summary>
    public static void Write(FlameSource source, FlameSelection selection, Stream output, FoldedWeight weight = FoldedWeight.Period)
    {
        var ev = source.PickEvent(selection.Event);
        bool byPeriod = weight == FoldedWeight.Period;
        var unit = byPeriod ? EventPeriod.Of(ev).SpeedscopeUnit : "none";
        var threads = new Dictionary<(int Domain, int Pid, int Tid), ThreadSamples>();
        var order = new List<ThreadSamples>();
        // The shared frame table: the frames these samples use, numbered in order of first use (in time order, each
        // stack from its sampled frame up), complete before it is written.
        var index = new Dictionary<FrameId, int>();
        var table = new List<XenProf.Reporter.Profile.Location>();
        var numbered = new HashSet<StackId>();
        void Add(int domain, int pid, int tid, StackId stack, long value, string? name)
        {
            if (numbered.Add(stack))
            {
                var frames = source.StackOf(stack);
                for (int i = frames.Count - 1; i >= 0; i--)
                    if (index.TryAdd(frames[i].Id, table.Count)) table.Add(frames[i]);
            }
            if (!threads.TryGetValue((domain, pid, tid), out var t))
            {
                threads[(domain, pid, tid)] = t = new ThreadSamples(domain, pid, tid, name);
                order.Add(t);
            }
            t.Stacks.Add(stack);
            t.Weights.Add(value);
        }
        if (source.HasSamples)
            foreach (var s in source.Samples(selection with { Event = ev.Name }))
                Add(s.Domain, s.Pid, s.Tid, s.Stack, byPeriod ? s.Period : s.Weight, null);
        else
            // Per-stack sums (the fleet database): one profile per (domain, pid, thread name), one weighted entry per stack.
            foreach (var t in source.Profile.StackTotals)
                if (t.Event == ev.Id)
                    Add(t.Domain, t.Pid, t.Comm.Value, t.Stack, byPeriod ? t.Period : t.Weight, source.Profile.Labels.RootName(t.Domain, t.Pid, t.Comm));


        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteString("$schema", SchemaUrl);
        w.WriteString("exporter", "xenoprof@" + typeof(SpeedscopeWriter).Assembly.GetName().Version);
        w.WriteString("name", $"{ev.Name} ({source.Meta.GetValueOrDefault("hostname", "session")})");
        w.WriteNumber("activeProfileIndex", 0);
        w.WriteStartObject("shared");
        w.WriteStartArray("frames");
        foreach (var f in table)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("file", f.Image.Path);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("profiles");
        foreach (var t in order.OrderByDescending(t => t.Weights.Sum()).ThenBy(t => t.Domain).ThenBy(t => t.Pid).ThenBy(t => t.Tid))
        {
            long total = 0;
            foreach (var x in t.Weights) total += x;
            w.WriteStartObject();
            w.WriteString("type", "sampled");
            w.WriteString("name", t.Name is { } thread ? $"{thread} [{source.DomainName(t.Domain)} pid {t.Pid}]"
                : $"{source.ThreadName(t.Domain, t.Tid, t.Pid)} [{source.DomainName(t.Domain)} pid {t.Pid} tid {t.Tid}]");
            w.WriteString("unit", unit);
            w.WriteNumber("startValue", 0);
            w.WriteNumber("endValue", total);
            w.WriteStartArray("samples");
            foreach (var st in t.Stacks)
            {
                w.WriteStartArray();
                foreach (var f in source.StackOf(st)) w.WriteNumberValue(index[f.Id]);
                w.WriteEndArray();
                if (w.BytesPending > 1 << 20) w.Flush(); // Utf8JsonWriter keeps everything until flushed
            }
            w.WriteEndArray();
            w.WriteStartArray("weights");
            foreach (var x in t.Weights) w.WriteNumberValue(x);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }


    // Tid: the thread id, or for per-stack sums the thread name's id (CommId), whose text is Name.
    private sealed class ThreadSamples(int domain, int pid, int tid, string? name)
    {
        public string? Name { get; } = name;
        public int Domain { get; } = domain;
        public int Pid { get; } = pid;
        public int Tid { get; } = tid;
        public List<StackId> Stacks { get; } = new();
        public List<long> Weights { get; } = new();
    }
}
