using System.IO.Compression;
using Google.Protobuf;
using XenProf.Reporter.Flame.Pprof;
using XenProf.Sampler.Store;
using PprofProfile = XenProf.Reporter.Flame.Pprof.Profile;
using ValueType = XenProf.Reporter.Flame.Pprof.ValueType;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Writes a gzip-compressed pprof <c>profile.proto</c> (google/pprof proto/profile.proto), encoded by code generated
/// from <c>Flame/Proto/profile.proto</c>. Sample types: <c>samples/count</c>, then one column per event named
/// after it, in the event's unit (<c>nanoseconds</c> or <c>count</c>, <see cref="EventPeriod"/>), holding the samples'
/// summed periods as the store keeps them. The default sample type is the first event's period column, or
/// <c>samples</c> when weighing by samples. Stores are normalized like pprof, so images become
/// Mappings, frames Locations, symbols Functions; each sample carries labels for domain, pid, tid and cpu.
/// Identical (stack, labels) samples are merged, as the format allows.
/// </summary>
public static class PprofWriter
{
    /// <summary>Writes the selected samples (every event unless the selection names one) to <paramref name="output"/>;
    /// for a profile without samples (<see cref="FlameSource.HasSamples"/>: the fleet database's), its per-stack sums,
    /// labelled by domain, pid, process and thread name, with no duration.</summary>
    public static void Write(FlameSource source, FlameSelection selection, Stream output, FoldedWeight weight = FoldedWeight.Period)
    {
        var profile = Build(source, selection, weight);
        using var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        profile.WriteTo(gz);
    }

    internal static PprofProfile Build(FlameSource source, FlameSelection selection, FoldedWeight weight = FoldedWeight.Period)
    {
        var events = source.EventsOf(selection);
        var col = new Dictionary<EventId, int>();
        var p = new PprofProfile();
        var strings = new Dictionary<string, long>();
        long Str(string s)
        {
            if (strings.TryGetValue(s, out var i)) return i;
            i = p.StringTable.Count;
            p.StringTable.Add(s);
            strings[s] = i;
            return i;
        }
        Str("");

        p.SampleType.Add(new ValueType { Type = Str("samples"), Unit = Str("count") });
        foreach (var ev in events)
        {
            col[ev.Id] = p.SampleType.Count;
            p.SampleType.Add(new ValueType { Type = Str(ev.Name), Unit = Str(EventPeriod.Of(ev).PprofUnit) });
        }
        var first = events[0];
        p.PeriodType = new ValueType { Type = Str(first.Name), Unit = Str(EventPeriod.Of(first).PprofUnit) };
        p.Period = EventPeriod.Of(first).Value;
        p.DefaultSampleType = weight == FoldedWeight.Period ? Str(first.Name) : Str("samples");
        p.Comment.Add(Str("xenoprof " + string.Join(", ", events.Select(e => $"{e.Name}:{e.Count}"))));

        var mappings = new Dictionary<ImageId, Mapping>();
        var images = new Dictionary<ImageId, StoredImage>();
        var functions = new Dictionary<(string Name, string File), ulong>();
        var locations = new Dictionary<FrameId, ulong>(); // pprof location ids, dense from 1 in order of first use
        long kDomain = Str("domain"), kPid = Str("pid"), kTid = Str("tid"), kCpu = Str("cpu"), kThread = Str("thread"), kProcess = Str("process");
        var merged = new Dictionary<(StackId, int, int, int, int), Sample>();
        long firstNs = long.MaxValue, lastNs = long.MinValue;

        Mapping MappingOf(XenProf.Reporter.Profile.Location f)
        {
            if (mappings.TryGetValue(f.Image.Id, out var m)) return m;
            m = new Mapping
            {
                Id = (ulong)mappings.Count + 1,
                Filename = Str(f.Image.Path),
                BuildId = Str(f.Image.BuildId ?? ""),
                HasFunctions = true,
            };
            mappings[f.Image.Id] = m;
            images[f.Image.Id] = f.Image;
            return m;
        }

        ulong LocationOf(XenProf.Reporter.Profile.Location f)
        {
            if (locations.TryGetValue(f.Id, out var id)) return id;
            id = (ulong)locations.Count + 1;
            locations[f.Id] = id;
            var m = MappingOf(f);
            // Frame offsets are image-relative (see ImageKind); the mapping spans every offset seen, so each
            // address lies inside [memory_start, memory_limit) as pprof checks.
            if (m.MemoryLimit == 0 && m.MemoryStart == 0) { m.MemoryStart = f.Offset; m.MemoryLimit = f.Offset + 1; }
            else { m.MemoryStart = Math.Min(m.MemoryStart, f.Offset); m.MemoryLimit = Math.Max(m.MemoryLimit, f.Offset + 1); }
            var key = (f.Name, f.Image.Path);
            if (!functions.TryGetValue(key, out var fid))
            {
                fid = (ulong)functions.Count + 1;
                functions[key] = fid;
                long name = Str(f.Name);
                p.Function.Add(new Function { Id = fid, Name = name, SystemName = name, Filename = Str(f.ImageName) });
            }
            var loc = new Location { Id = id, MappingId = m.Id, Address = f.Offset };
            loc.Line.Add(new Line { FunctionId = fid });
            p.Location.Add(loc);
            return id;
        }

        // One pprof sample per (stack, domain, pid, tid, cpu); from per-stack sums (no samples held), per (stack, domain,
        // pid, thread name), without tid and cpu labels, which the sums do not keep.
        Sample SampleOf((StackId Stack, int Domain, int Pid, int Tid, int Cpu) key, Func<string> thread, bool perThread)
        {
            if (merged.TryGetValue(key, out var sample)) return sample;
            sample = new Sample();
            var frames = source.StackOf(key.Stack);
            for (int i = frames.Count - 1; i >= 0; i--) sample.LocationId.Add(LocationOf(frames[i])); // leaf first
            for (int i = 0; i < p.SampleType.Count; i++) sample.Value.Add(0);
            sample.Label.Add(new Label { Key = kDomain, Num = key.Domain });
            sample.Label.Add(new Label { Key = kPid, Num = key.Pid });
            if (perThread)
            {
                sample.Label.Add(new Label { Key = kTid, Num = key.Tid });
                sample.Label.Add(new Label { Key = kCpu, Num = key.Cpu });
            }
            sample.Label.Add(new Label { Key = kProcess, Str = Str(source.ProcessName(key.Domain, key.Pid)) });
            sample.Label.Add(new Label { Key = kThread, Str = Str(thread()) });
            merged[key] = sample;
            p.Sample.Add(sample);
            return sample;
        }
        if (source.HasSamples)
            foreach (var s in source.Samples(selection))
            {
                if (!col.TryGetValue(s.Event, out int c)) continue;
                firstNs = Math.Min(firstNs, s.TimeNs);
                lastNs = Math.Max(lastNs, s.TimeNs);
                var sample = SampleOf((s.Stack, s.Domain, s.Pid, s.Tid, s.Cpu), () => source.ThreadName(s.Domain, s.Tid, s.Pid), true);
                sample.Value[0] += s.Weight;
                sample.Value[c] += s.Period;
            }
        else
            foreach (var t in source.Profile.StackTotals)
            {
                if (!col.TryGetValue(t.Event, out int c)) continue;
                var sample = SampleOf((t.Stack, t.Domain, t.Pid, t.Comm.Value, -1), () => source.Profile.Labels.RootName(t.Domain, t.Pid, t.Comm), false);
                sample.Value[0] += t.Weight;
                sample.Value[c] += t.Period;
            }
        foreach (var (image, m) in mappings.OrderBy(kv => kv.Value.Id))
        {
            // ELF frame offsets are file offsets, so a location's address is one too: with file_offset equal to
            // memory_start, pprof's address-to-file-offset arithmetic is the identity and symbolizing the file works.
            if (images[image].Kind == ImageKind.Elf) m.FileOffset = m.MemoryStart;
            p.Mapping.Add(m);
        }
        if (firstNs <= lastNs) p.DurationNanos = lastNs - firstNs;
        if (source.Meta.TryGetValue("created_unix_ns", out var t0) && long.TryParse(t0, out var t0ns)) p.TimeNanos = t0ns;
        return p;
    }

}
