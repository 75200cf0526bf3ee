using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// Builds the <see cref="Profile"/> of one query from a session store: the only code in Reporter that reads the store.
/// It aggregates samples by stack (from the store's per-stack totals, or from the samples when a filter needs them),
/// names each distinct frame once, and decides each frame's kind once (<see cref="FrameKinds"/>).
/// </summary>
public static class ProfileBuilder
{
    /// <summary>
    /// Reads <paramref name="store"/> and symbolizes with <paramref name="symbolizer"/>. A frame the source named
    /// itself (<c>frame_names</c>: perf script text, .nettrace) keeps that name; the symbolizer names the rest.
    /// Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> when <see cref="ProfileOptions.Event"/> names no event of the session.
    /// </summary>
    public static Profile Build(SessionStore store, IFrameSymbolizer symbolizer, ProfileOptions? options = null)
    {
        var query = options ?? new ProfileOptions();
        var allEvents = store.ReadEvents();
        var selected = SelectEvents(allEvents, query);
        long firstSample = 0;
        if (query.RelativeTimes || query.WithSamples) firstSample = store.FirstSampleTime() ?? 0;
        if (query.RelativeTimes)
            query = query with { FromNs = query.FromNs + firstSample, ToNs = query.ToNs + firstSample, RelativeTimes = false };

        var meta = new Dictionary<string, string>(store.ReadMeta());
        // A passive domain's samples carry that domain and belong to dom0's report (ImageNames.ReportDomain).
        var passive = ImageNames.PassiveDomains(meta);
        bool InDomain(int domain) => query.Domain == null || ImageNames.ReportDomain(domain, passive) == query.Domain;

        // A flat report of a finished import reads the leaf totals its symbol pass wrote, named as this symbolizer names.
        if (!query.NeedsSamples && !query.WithStacks && !query.WithDetails && symbolizer is CachedFrameSymbolizer { Configuration: { } cfg }
            && store.ReadLeafTotals(cfg) is { } leaves)
            return BuildFrom(query, selected, LeafTables(store, allEvents, meta, firstSample, leaves, t => (selected == null || selected.Contains(t.Event)) && InDomain(t.Domain)), symbolizer);

        // The rows: per-stack totals as stored, or summed from the samples a filter keeps.
        var samples = new List<StoredSample>();
        List<StackTotal> rows;
        var sep = query.Separate;
        bool byTid = sep.HasFlag(Separation.Tid), byCpu = sep.HasFlag(Separation.Cpu);
        // With thread or CPU separation, the rows are also summed per (tid, cpu) for the columns.
        var split = byTid || byCpu ? new Dictionary<(EventId, int, int, CommId, StackId, int, int), (long Weight, long Period, double Squares)>() : null;
        if (!query.NeedsSamples)
        {
            rows = new List<StackTotal>(store.CountStackTotals());
            foreach (var t in store.ReadStackTotals())
                if ((selected == null || selected.Contains(t.Event)) && InDomain(t.Domain)) rows.Add(t);
        }
        else
        {
            var sums = new Dictionary<(EventId, int, int, CommId, StackId), (long Samples, long Weight, long Period, double Squares)>();
            var source = query.WithSamples ? store.ReadSamples() : store.ReadSamplesUnordered(null, query.FromNs, query.ToNs);
            foreach (var s in source)
            {
                if (selected != null && !selected.Contains(s.Event)) continue;
                if (query.Pid != null && s.Pid != query.Pid) continue;
                if (query.Tid != null && s.Tid != query.Tid) continue;
                if (query.Cpu != null && s.Cpu != query.Cpu) continue;
                if (query.Tgids != null && !query.Tgids.Contains(s.Pid)) continue;
                if (query.Tids != null && !query.Tids.Contains(s.Tid)) continue;
                if (query.Cpus != null && !query.Cpus.Contains(s.Cpu)) continue;
                if (query.FromNs != null && s.TimeNs < query.FromNs) continue;
                if (query.ToNs != null && s.TimeNs >= query.ToNs) continue;
                if (!InDomain(s.Domain)) continue;
                if (query.WithSamples) samples.Add(s);
                ref var t = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, (s.Event, s.Domain, s.Pid, s.Comm, s.Stack), out _);
                t.Samples++;
                t.Weight += s.Weight;
                t.Period += s.Period;
                t.Squares += StackTotal.SquaresOf(s.Weight, s.Period);
                if (split != null)
                {
                    ref var c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(split,
                        (s.Event, s.Domain, s.Pid, s.Comm, s.Stack, byTid ? s.Tid : -1, byCpu ? s.Cpu : -1), out _);
                    c.Weight += s.Weight;
                    c.Period += s.Period;
                    c.Squares += StackTotal.SquaresOf(s.Weight, s.Period);
                }
            }
            rows = sums.Select(kv => new StackTotal(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item5, kv.Value.Samples, kv.Value.Weight, kv.Key.Item4,
                    kv.Value.Period, kv.Value.Squares))
                .OrderBy(t => t.Event.Value).ThenBy(t => t.Domain).ThenBy(t => t.Pid).ThenBy(t => t.Comm.Value).ThenBy(t => t.Stack.Value).ToList();
        }

        // The tables after the rows: a daemon may commit between the reads, and rows read first only name stacks, frames and
        // images that are already there.
        var tables = new ProfileTables(allEvents, meta, store.ReadCounters(), rows, samples, firstSample, store.ReadImages(), store.ReadFrames(),
            store.ReadStacks(), store.ReadFrameNames(), new ProfileLabels(store.ReadDomains(), store.ReadProcesses(), store.ReadThreads(), store.ReadComms()),
            split, store.ReadProcessImages);
        return BuildFrom(query, selected, tables, symbolizer);
    }

    /// <summary>
    /// The tables of a flat report from <paramref name="leaves"/> (<see cref="SessionStore.ReadLeafTotals"/>): each distinct
    /// leaf (image, symbol) becomes one frame, named, and a stack of that frame alone, as the fleet database's flat rows do.
    /// </summary>
    private static ProfileTables LeafTables(SessionStore store, IReadOnlyList<StoredEvent> events, Dictionary<string, string> meta, long firstSample,
        List<LeafTotal> leaves, Func<LeafTotal, bool> keep)
    {
        var frames = new Dictionary<FrameId, StoredFrame>();
        var stacks = new Dictionary<StackId, StoredStack>();
        var names = new Dictionary<FrameId, string?>();
        var frameOf = new Dictionary<(ImageId, string?), long>();
        var rows = new List<StackTotal>(leaves.Count);
        foreach (var l in leaves)
        {
            if (!keep(l)) continue;
            if (!frameOf.TryGetValue((l.Image, l.Name), out var id))
            {
                frameOf[(l.Image, l.Name)] = id = frameOf.Count + 1;
                var frame = new FrameId(id);
                frames[frame] = new StoredFrame(frame, l.Image, 0);
                names[frame] = l.Name;
                stacks[new StackId(id)] = new StoredStack(new StackId(id), default, frame);
            }
            rows.Add(new StackTotal(l.Event, l.Domain, l.Pid, new StackId(id), l.Samples, l.Weight, l.Comm, l.Period, l.PeriodSquares));
        }
        rows.Sort((a, b) => (a.Event.Value, a.Domain, a.Pid, a.Comm.Value, a.Stack.Value).CompareTo((b.Event.Value, b.Domain, b.Pid, b.Comm.Value, b.Stack.Value)));
        return new ProfileTables(events, meta, store.ReadCounters(), rows, [], firstSample, store.ReadImages(), frames, stacks, names,
            new ProfileLabels(store.ReadDomains(), store.ReadProcesses(), store.ReadThreads(), store.ReadComms()), null, store.ReadProcessImages);
    }

    /// <summary>
    /// Builds the profile of <paramref name="query"/> (its filters already applied to <see cref="ProfileTables.Rows"/>, and
    /// <paramref name="selected"/> the events it keeps, null for all) from tables read out of a store: the session store,
    /// or the fleet database (<see cref="FleetProfiles"/>).
    /// </summary>
    internal static Profile BuildFrom(ProfileOptions query, HashSet<EventId>? selected, ProfileTables tables, IFrameSymbolizer symbolizer)
    {
        var (allEvents, meta, samples, firstSample, split) = (tables.AllEvents, tables.Meta, tables.Samples, tables.FirstSample, tables.Split);
        var rows = tables.Rows;
        var passive = ImageNames.PassiveDomains(meta);
        var (images, frames, stacks, storedNames, labels) = (tables.Images, tables.Frames, tables.Stacks, tables.FrameNames, tables.Labels);
        var sep = query.Separate;
        if (sep.HasFlag(Separation.MergedUnitMasks)) (allEvents, rows, samples, split) = MergeUnitMasks(allEvents, rows, samples, split);

        // perf's dummy event (software, PERF_COUNT_SW_DUMMY = 9) only carries side-band records; like perf report,
        // leave it out unless it has samples.
        var sampled = rows.Select(t => t.Event).ToHashSet();
        var events = allEvents.Where(e => (selected == null || selected.Contains(e.Id)) && (!(e.PerfType == 1 && e.PerfConfig == 9) || sampled.Contains(e.Id))).ToList();
        var evIndex = events.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i);
        int n = events.Count;
        var totals = new long[n];
        var periodTotals = new long[n];
        var squares = new double[n];

        var locator = query.WithDetails ? symbolizer as IFrameAddressSymbolizer : null;
        var located = new Dictionary<FrameId, FrameSymbol?>();
        var locations = new Dictionary<FrameId, Location>();
        var locationList = new List<Location>();

        FrameSymbol? Locate(FrameId f)
        {
            if (located.TryGetValue(f, out var l)) return l;
            var fr = frames[f];
            if (tables.Located != null && tables.Located.TryGetValue(f, out var known)) l = known; // located where the samples were taken
            else if (storedNames.TryGetValue(f, out var named))
                l = named == null ? null : new FrameSymbol(named, 0, 0, fr.Offset); // the source's own name; its offset is no place in a file
            else l = locator!.Locate(images[fr.Image], fr.Offset);
            return located[f] = l;
        }

        Location LocationOf(FrameId f)
        {
            if (locations.TryGetValue(f, out var loc)) return loc;
            var fr = frames[f];
            var image = images[fr.Image];
            string? symbol = storedNames.TryGetValue(f, out var named) ? named
                : locator != null ? Locate(f)?.Name
                : symbolizer.Symbolize(image, fr.Offset);
            int? guest = ImageNames.IsPassive(image, passive) ? image.Domain : null;
            string imageName = ImageNames.Display(image, guest != null);
            if (imageName.StartsWith('/')) imageName = Path.GetFileName(imageName); // e.g. a cached xen-syms path
            // Unresolved frames are named as stackcollapse-perf.pl names them from perf script's dso: [libc.so.6],
            // [[kernel.kallsyms]], [unknown]; a passive domain's frames carry their image: domain1-kernel:schedule.
            string name = symbol == null ? (imageName == "[unknown]" ? imageName : "[" + imageName + "]") : guest != null ? imageName + ":" + symbol : symbol;
            loc = new Location(locationList.Count, f, name, symbol, FrameKinds.Of(image, imageName, symbol, guest), image, imageName, fr.Offset, guest);
            locationList.Add(loc);
            return locations[f] = loc;
        }

        var resolved = new Dictionary<StackId, Location[]>();
        Location[] Resolve(StackId stack)
        {
            if (resolved.TryGetValue(stack, out var r)) return r;
            int depth = 0;
            for (var s = stack; s.Value != 0; s = stacks[s].Parent) depth++;
            r = new Location[depth];
            int i = depth;
            for (var s = stack; s.Value != 0; s = stacks[s].Parent) r[--i] = LocationOf(stacks[s].Frame);
            return resolved[stack] = r;
        }

        // Image and symbol filters judge each row by its leaf, as oprofile keeps or drops a sample by the image and symbol it
        // hit; the totals (and the separated columns') are of what they keep.
        var imageFilter = query.Images.Count > 0 || query.ImageExcludes.Count > 0 ? new ImageFilter(query.Images, query.ImageExcludes) : null;
        bool symbolFilter = query.IncludeSymbols.Count > 0 || query.ExcludeSymbols.Count > 0;
        bool Keeps(StackId stack)
        {
            var leaf = LocationOf(stacks[stack].Frame);
            if (imageFilter != null && !imageFilter.Keeps(leaf.Image, ImageNames.Display(leaf.Image, leaf.GuestDomain != null))) return false;
            if (!symbolFilter) return true;
            var name = leaf.Symbol ?? Profile.NoSymbols;
            if (query.ExcludeSymbols.Contains(name)) return false;
            return query.IncludeSymbols.Count == 0 || query.IncludeSymbols.Contains(name);
        }
        if (imageFilter != null || symbolFilter)
        {
            rows = rows.Where(t => !evIndex.ContainsKey(t.Event) || Keeps(t.Stack)).ToList();
            if (split != null)
                foreach (var k in split.Keys.Where(k => !Keeps(k.Item5)).ToList()) split.Remove(k);
        }

        // What each weight is counted under: its event, its column (thread group, thread, CPU) and its application.
        // (Enumerated twice, by Columns.Of and the loop below; the rows as they are when nothing is split.)
        var weighted = split != null
            ? split.Select(kv => (Event: kv.Key.Item1, Domain: kv.Key.Item2, Pid: kv.Key.Item3, Stack: kv.Key.Item5, Tid: kv.Key.Item6, Cpu: kv.Key.Item7, kv.Value.Weight, kv.Value.Period, kv.Value.Squares))
                .OrderBy(x => x.Event.Value).ThenBy(x => x.Domain).ThenBy(x => x.Pid).ThenBy(x => x.Stack.Value).ThenBy(x => x.Tid).ThenBy(x => x.Cpu).ToList()
            : rows.Select(t => (t.Event, t.Domain, t.Pid, t.Stack, Tid: -1, Cpu: -1, t.Weight, t.Period, Squares: t.PeriodSquares));
        var columns = Columns.Of(events, weighted.Where(x => evIndex.ContainsKey(x.Event))
            .Select(x => (evIndex[x.Event], sep.HasFlag(Separation.Tgid) ? x.Pid : -1, x.Tid, x.Cpu, x.Weight, x.Period, x.Squares)), sep, out var columnOf);
        int nClasses = columnOf == null ? 0 : columns.Count;
        var apps = sep.HasFlag(Separation.Lib) ? new Applications(tables.ProcessImages(), images, labels.Processes, sep.HasFlag(Separation.Kernel)) : null;

        var appRows = new Dictionary<ImageId, AppRow>();
        var imageRows = new Dictionary<(ImageId App, ImageId Image), ImageRow>();
        var symbolRows = new Dictionary<(ImageId App, ImageId Image, string Symbol), SymbolRow>();
        string NameOf(StoredImage image) => ImageNames.Display(image, ImageNames.IsPassive(image, passive));
        ImageRow RowOf(StoredImage image, StoredImage? app)
        {
            var key = (app?.Id ?? image.Id, image.Id);
            if (imageRows.TryGetValue(key, out var r)) return r;
            AppRow? appRow = null;
            if (app != null && !appRows.TryGetValue(app.Id, out appRow)) appRows[app.Id] = appRow = new AppRow(app, NameOf(app), n, nClasses);
            imageRows[key] = r = new ImageRow(image, NameOf(image), n, nClasses, appRow);
            appRow?.AddImage(r);
            return r;
        }

        foreach (var t in weighted)
        {
            if (!evIndex.TryGetValue(t.Event, out var ei)) continue;
            int ci = columnOf?[(ei, sep.HasFlag(Separation.Tgid) ? t.Pid : -1, t.Tid, t.Cpu)] ?? 0;
            if (query.WithStacks) Resolve(t.Stack);
            var leafId = stacks[t.Stack].Frame;
            var leaf = LocationOf(leafId);
            if (query.WithStacks) Resolve(t.Stack);
            totals[ei] += t.Weight;
            periodTotals[ei] += t.Period;
            squares[ei] += t.Squares;
            var app = apps?.Of(t.Domain, t.Pid, leaf.Image);
            var img = RowOf(leaf.Image, app);
            img.Counts.Add(ei, ci, t.Weight, t.Period);
            img.App?.Counts.Add(ei, ci, t.Weight, t.Period);
            var sym = leaf.Symbol ?? Profile.NoSymbols;
            var skey = (app?.Id ?? leaf.Image.Id, leaf.Image.Id, sym);
            if (!symbolRows.TryGetValue(skey, out var sr)) symbolRows[skey] = sr = new SymbolRow(img, sym, n, nClasses);
            sr.Counts.Add(ei, ci, t.Weight, t.Period);
            if (locator != null)
            {
                var at = Locate(leafId);
                if (at is { } l) { sr.Start = l.Start; sr.Size = l.Size; }
                sr.Detail(leaf, at?.Address ?? leaf.Offset).Counts.Add(ei, ci, t.Weight, t.Period);
            }
        }

        var imgList = imageRows.Values.OrderByDescending(r => r.Counts.Total).ThenBy(r => r.Name, StringComparer.Ordinal)
            .ThenBy(r => r.App?.Name, StringComparer.Ordinal).ToList();
        var symList = symbolRows.Values.OrderByDescending(r => r.Counts.Total).ThenBy(r => r.ImageRow.Name, StringComparer.Ordinal)
            .ThenBy(r => r.Symbol, StringComparer.Ordinal).ThenBy(r => r.ImageRow.App?.Name, StringComparer.Ordinal).ToList();
        var appList = appRows.Values.OrderByDescending(a => a.Counts.Total).ThenBy(a => a.Name, StringComparer.Ordinal).ToList();
        foreach (var a in appList) a.SortImages();
        if (query.Domain is { } dom) meta[Profile.ReportDomainKey] = dom.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Kish's effective sample size of the period-weighted samples: N when every period is the same.
        var effective = new double[n];
        for (int i = 0; i < n; i++) effective[i] = EffectiveSamples(totals[i], periodTotals[i], squares[i]);
        var warnings = symbolizer.Warnings;
        if (query.WithStacks && meta.GetValueOrDefault(Sampler.Import.TraceImport.CallchainsKey) == Sampler.Import.TraceImport.LeafOnlyCallchains)
            warnings = [.. warnings, "this session was imported for a flat report and holds each sample's leaf frame only, no callers; "
                + "report on the trace file itself (it is imported again with its callchains) or run 'xenoprof import' on it"];
        return new Profile(query, events, meta, tables.Counters, totals, periodTotals, effective, imgList, symList, warnings,
            labels, locationList, stacks, locations, resolved, rows.Where(t => evIndex.ContainsKey(t.Event)).ToList(), samples, firstSample,
            sep, columns, appList);
    }

    /// <summary>
    /// opreport <c>--merge=unitmask</c>: events that differ only in their unit mask (same name, type, count, and
    /// kernel/user filter) become one event, the first of them in store order with the OR of their unit masks, and every
    /// row and sample of the others is counted under it.
    /// </summary>
    private static (IReadOnlyList<StoredEvent>, List<StackTotal>, List<StoredSample>, Dictionary<(EventId, int, int, CommId, StackId, int, int), (long Weight, long Period, double Squares)>?)
        MergeUnitMasks(IReadOnlyList<StoredEvent> events, List<StackTotal> rows, List<StoredSample> samples,
            Dictionary<(EventId, int, int, CommId, StackId, int, int), (long Weight, long Period, double Squares)>? split)
    {
        var groups = events.GroupBy(e => (e.Name, e.PerfType, e.Count, e.Kernel, e.User)).Where(g => g.Count() > 1).ToList();
        if (groups.Count == 0) return (events, rows, samples, split);
        var into = new Dictionary<EventId, EventId>();
        var merged = new Dictionary<EventId, StoredEvent>();
        foreach (var g in groups)
        {
            var first = g.First();
            merged[first.Id] = first with { UnitMask = g.Aggregate(0u, (m, e) => m | e.UnitMask) };
            foreach (var e in g.Skip(1)) into[e.Id] = first.Id;
        }
        EventId Of(EventId e) => into.TryGetValue(e, out var to) ? to : e;
        var list = events.Where(e => !into.ContainsKey(e.Id)).Select(e => merged.TryGetValue(e.Id, out var m) ? m : e).ToList();
        var newRows = rows.Select(r => r with { Event = Of(r.Event) }).ToList();
        var newSamples = samples.Select(s => s with { Event = Of(s.Event) }).ToList();
        Dictionary<(EventId, int, int, CommId, StackId, int, int), (long Weight, long Period, double Squares)>? newSplit = null;
        if (split != null)
        {
            newSplit = [];
            foreach (var (k, v) in split)
            {
                ref var t = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(newSplit, k with { Item1 = Of(k.Item1) }, out _);
                t.Weight += v.Weight; t.Period += v.Period; t.Squares += v.Squares;
            }
        }
        return (list, newRows, newSamples, newSplit);
    }

    /// <summary>Kish's effective sample size (Σperiod)² / Σperiod² of <paramref name="samples"/> samples whose periods sum to
    /// <paramref name="period"/> and whose squared periods sum to <paramref name="squares"/>; the sample count when no squares are known.</summary>
    internal static double EffectiveSamples(long samples, long period, double squares) =>
        squares > 0 ? (double)period * period / squares : samples;

    /// <summary>
    /// The events <paramref name="query"/> selects by name, sample period and unit mask, or null when it names none;
    /// throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> naming the session's events when none matches.
    /// </summary>
    private static HashSet<EventId>? SelectEvents(IReadOnlyList<StoredEvent> events, ProfileOptions query)
    {
        if (query.Event == null && query.Count == null && query.UnitMask == null) return null;
        var matching = events.Where(e => (query.Event == null || string.Equals(e.Name, query.Event, StringComparison.OrdinalIgnoreCase))
            && (query.Count == null || e.Count == query.Count) && (query.UnitMask == null || e.UnitMask == query.UnitMask)).Select(e => e.Id).ToHashSet();
        if (matching.Count > 0) return matching;
        if (query.Count == null && query.UnitMask == null)
            throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {query.Event} is not in this session (it has {string.Join(", ", events.Select(e => e.Name))})");
        var asked = string.Join(' ', new[]
        {
            query.Event == null ? null : "event:" + query.Event,
            query.Count == null ? null : "count:" + query.Count.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            query.UnitMask == null ? null : "unit-mask:" + query.UnitMask.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }.Where(x => x != null));
        throw new XenProf.Hypervisor.Binary.XenProfUserException(
            $"{asked} matches no event of this session (it has {string.Join(", ", events.Select(e => $"event:{e.Name} count:{e.Count} unit-mask:{e.UnitMask}"))})");
    }


    /// <summary>opreport's name of an image of a domain that is not passive (<see cref="ImageNames.Display"/>): the file's basename, or the bracketed pseudo name (<c>[kernel.kallsyms]</c>, <c>[vdso]</c>…).</summary>
    public static string DisplayName(StoredImage image) => ImageNames.Display(image, passive: false);
}

/// <summary>
/// What <see cref="ProfileBuilder"/> reads out of a store for one query: the events, meta and counters, the selected rows
/// (and samples), and the tables they name. <paramref name="Split"/> holds the rows summed per (tid, cpu) too when the
/// query separates threads or CPUs; <paramref name="ProcessImages"/> reads which images each process mapped (for library
/// separation). <paramref name="Located"/>, when given, holds frames already located inside their functions by the
/// recording host (the fleet database); <paramref name="FrameNames"/> holds frames already named.
/// </summary>
internal sealed record ProfileTables(
    IReadOnlyList<StoredEvent> AllEvents, Dictionary<string, string> Meta, IReadOnlyDictionary<string, long> Counters,
    List<StackTotal> Rows, List<StoredSample> Samples, long FirstSample,
    IReadOnlyDictionary<ImageId, StoredImage> Images, IReadOnlyDictionary<FrameId, StoredFrame> Frames,
    IReadOnlyDictionary<StackId, StoredStack> Stacks, IReadOnlyDictionary<FrameId, string?> FrameNames, ProfileLabels Labels,
    Dictionary<(EventId, int, int, CommId, StackId, int, int), (long Weight, long Period, double Squares)>? Split,
    Func<IReadOnlyDictionary<(int Domain, int Pid), IReadOnlyList<ImageId>>> ProcessImages,
    IReadOnlyDictionary<FrameId, FrameSymbol?>? Located = null);
