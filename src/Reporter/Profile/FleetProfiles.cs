using System.Globalization;
using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Fleet;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// Which pushed sessions a fleet report reads: by host, by session id and by wall-clock window. Empty lists select
/// everything.
/// </summary>
public sealed record FleetSelection
{
    /// <summary>Database the sessions were pushed into.</summary>
    public string Database { get; init; } = FleetSchema.DefaultDatabase;

    /// <summary>Only sessions pushed under these host names (<c>host:NAME[,NAME]</c>).</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Only these session ids (<c>session:ID</c>, as <c>xenoprof push</c> prints them).</summary>
    public IReadOnlyList<string> Sessions { get; init; } = [];

    /// <summary>Only samples taken at or after this time (wall clock).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only samples taken before this time (wall clock).</summary>
    public DateTimeOffset? To { get; init; }
}

/// <summary>
/// The fleet database (ClickHouse, <see cref="FleetSchema"/>) as a source of the one profile model: the samples of the
/// selected sessions are summed per (session, event, domain, pid, thread name, stack) by a GROUP BY in ClickHouse, or,
/// without <see cref="ProfileOptions.WithStacks"/>, per leaf frame (a profile whose stacks are then each one leaf frame
/// deep), and only those sums and the stacks, frames (named on their recording host) and images they refer to are read. Several
/// hosts merge into one profile: events by name, images by (path, kind, domain), with <see cref="ProfileOptions.WithDetails"/>
/// also by build-id (addresses of two builds are not the same instructions); frames and stacks stay per session.
/// Where an image's symbols were resolved on some hosts but on others none of its samples have a symbol (the binary or
/// its debug file was missing there), <see cref="Profile.Warnings"/> says so.
/// </summary>
public static class FleetProfiles
{
    /// <summary>
    /// Builds the profile of the sessions <paramref name="selection"/> picks. The filters on the samples table are
    /// WHERE clauses of the sums in ClickHouse: the events <see cref="ProfileOptions.Event"/>, <see cref="ProfileOptions.Count"/>
    /// and <see cref="ProfileOptions.UnitMask"/> choose (matched in each session's own event table, as a local report
    /// matches them), <see cref="ProfileOptions.Domain"/> (with the passive domains dom0 reports),
    /// <see cref="ProfileOptions.Pid"/>/<see cref="ProfileOptions.Tgids"/>, <see cref="ProfileOptions.Tid"/>/<see cref="ProfileOptions.Tids"/>
    /// and <see cref="ProfileOptions.Cpu"/>/<see cref="ProfileOptions.Cpus"/>. The image and symbol filters
    /// (<see cref="ProfileOptions.Images"/>, <see cref="ProfileOptions.IncludeSymbols"/>…) judge each row's leaf in the
    /// builder, as for a session store; <see cref="ProfileOptions.WithStacks"/> and <see cref="ProfileOptions.WithDetails"/>
    /// apply. Session-clock windows (<see cref="ProfileOptions.FromNs"/>), separation by thread or CPU and
    /// <see cref="ProfileOptions.WithSamples"/> are not offered for the fleet database (its window is
    /// <see cref="FleetSelection.From"/>/<see cref="FleetSelection.To"/>, wall clock).
    /// Throws <see cref="ClickHouseException"/> when the server fails and <see cref="XenProfUserException"/> when no
    /// session matches, no event matches or a filter is not offered.
    /// </summary>
    public static Profile Load(ClickHouseHttp ch, FleetSelection selection, ProfileOptions options, CancellationToken ct = default)
    {
        if (options.WithSamples || options.FromNs != null || options.ToNs != null || options.RelativeTimes)
            throw new XenProfUserException("--clickhouse: reports by session-clock time or per sample are not offered for the fleet database; use --from/--to for wall-clock windows");
        if ((options.Separate & (Separation.Tid | Separation.Cpu)) != 0)
            throw new XenProfUserException("--clickhouse: --separate=thread/cpu columns are not offered for the fleet database; select with tid:N or cpu:N instead");
        var db = FleetSchema.CheckDatabaseName(selection.Database);
        FleetSchema.CheckReadable(ch, db, ct);

        // The complete sessions selected (a session pushed twice by racing pushes has two rows: one counts).
        var where = new List<string>();
        if (selection.Hosts.Count > 0) where.Add($"host IN ({List(selection.Hosts)})");
        if (selection.Sessions.Count > 0) where.Add($"session_id IN ({List(selection.Sessions)})");
        var sessions = ch.Query($"SELECT session_id, any(host) FROM {db}.sessions{Where(where)} GROUP BY session_id ORDER BY any(host), session_id", ct)
            .Select(r => (Id: r[0], Host: r[1])).ToList();
        if (sessions.Count == 0)
        {
            var known = ch.Query($"SELECT DISTINCT host FROM {db}.sessions ORDER BY host", ct).Select(r => r[0]).ToList();
            throw new XenProfUserException($"no pushed session matches {Describe(selection)} in database {db} (hosts pushed: {(known.Count > 0 ? string.Join(", ", known) : "none")})");
        }
        var hostOf = sessions.ToDictionary(s => s.Id, s => s.Host);
        string inSessions = $"session_id IN ({List(sessions.Select(s => s.Id))})";
        var sampleWhere = new List<string> { $"host IN ({List(sessions.Select(s => s.Host).Distinct())})", inSessions };
        if (selection.From is { } from) sampleWhere.Add($"wall_ns >= {UnixNs(from)}");
        if (selection.To is { } to) sampleWhere.Add($"wall_ns < {UnixNs(to)}");
        // The filters the push-time sums per leaf symbol can answer too (symbol_totals: event, domain, pid) go to both.
        var totalsWhere = new List<string> { inSessions };
        void Filter(string condition) { sampleWhere.Add(condition); totalsWhere.Add(condition); }
        if (options.Pid is { } pid) Filter($"pid = {Numbers([pid])}");
        if (options.Tgids != null) Filter($"pid IN ({Numbers(options.Tgids)})");
        if (options.Tid is { } tid) sampleWhere.Add($"tid = {Numbers([tid])}");
        if (options.Cpu is { } cpu) sampleWhere.Add($"cpu = {Numbers([cpu])}");
        if (options.Tids != null) sampleWhere.Add($"tid IN ({Numbers(options.Tids)})");
        if (options.Cpus != null) sampleWhere.Add($"cpu IN ({Numbers(options.Cpus)})");
        // A flat report (no stacks, no per-instruction detail, no filter on a sample's time, thread or CPU) of sessions
        // pushed with symbol_totals (schema version 2) reads those sums and no frame; any other reads the samples.
        // The sums stand for the samples only where they count every sample pushed (a push still running, or one that
        // stopped between a batch of samples and its sums, leaves some uncounted).
        // A report by instruction without stacks (opannotate, opreport -d) reads the sums per leaf frame the same way.
        List<string[]>? pushedSamples = null;
        bool Covers(string table) =>
            ch.Query($"SELECT count() FROM system.tables WHERE database = {ClickHouseHttp.Quote(db)} AND name = {ClickHouseHttp.Quote(table)}", ct)[0][0] == "1"
            && SameCounts(ch.Query($"SELECT session_id, sum(samples) FROM {db}.{table} WHERE {inSessions} GROUP BY session_id", ct),
                pushedSamples ??= ch.Query($"SELECT session_id, count() FROM {db}.samples WHERE {string.Join(" AND ", sampleWhere.Take(2))} GROUP BY session_id", ct), sessions.Count);
        bool summable = !options.WithStacks && sampleWhere.Count == totalsWhere.Count + 1;
        bool flat = summable && !options.WithDetails && Covers("symbol_totals");
        bool byFrame = summable && options.WithDetails && Covers("frame_totals");

        // Events merge by name across sessions; event:, count: and unit-mask: pick each session's own matching events.
        var events = new List<StoredEvent>();
        var eventOf = new Dictionary<(string, long), EventId>();
        var picked = new List<(string Session, long Event, EventId Merged)>();
        var asked = new List<StoredEvent>();
        foreach (var r in ch.Query($"SELECT session_id, event_id, name, perf_type, perf_config, count, unit_mask, kernel, user, unit, description FROM {db}.events WHERE {inSessions} ORDER BY session_id, event_id", ct))
        {
            var stored = new StoredEvent(r[2], uint.Parse(r[3], CultureInfo.InvariantCulture), ulong.Parse(r[4], CultureInfo.InvariantCulture), ulong.Parse(r[5], CultureInfo.InvariantCulture),
                uint.Parse(r[6], CultureInfo.InvariantCulture), r[7] == "1", r[8] == "1", r[9], r[10]);
            var e = events.FirstOrDefault(x => x.Name == r[2]);
            if (e == null) events.Add(e = stored with { Id = new EventId(events.Count + 1) });
            eventOf[(r[0], Long(r[1]))] = e.Id;
            if (!asked.Any(a => a.Name == stored.Name && a.Count == stored.Count && a.UnitMask == stored.UnitMask)) asked.Add(stored);
            if ((options.Event == null || string.Equals(stored.Name, options.Event, StringComparison.OrdinalIgnoreCase))
                && (options.Count == null || stored.Count == options.Count) && (options.UnitMask == null || stored.UnitMask == options.UnitMask))
                picked.Add((r[0], Long(r[1]), e.Id));
        }
        HashSet<EventId>? only = null;
        if (options.Event != null || options.Count != null || options.UnitMask != null)
        {
            if (picked.Count == 0)
                throw new XenProfUserException($"{EventTerms(options)} matches no event of the selected sessions (they have "
                    + string.Join(", ", asked.Select(e => $"event:{e.Name} count:{e.Count} unit-mask:{e.UnitMask}")) + ")");
            only = picked.Select(p => p.Merged).ToHashSet();
            Filter($"(session_id, event_id) IN ({string.Join(", ", picked.Select(p => $"({ClickHouseHttp.Quote(p.Session)}, {p.Event})"))})");
        }

        // Meta: what every selected session agrees on, the host names joined.
        var metas = ch.Query($"SELECT session_id, key, value FROM {db}.meta WHERE {inSessions}", ct).GroupBy(r => r[0])
            .Select(g => g.GroupBy(r => r[1]).ToDictionary(k => k.Key, k => k.First()[2])).ToList();
        var meta = metas.Count == 0 ? [] : metas[0].Where(kv => metas.All(m => m.TryGetValue(kv.Key, out var v) && v == kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
        meta["hostname"] = string.Join(",", sessions.Select(s => s.Host).Distinct());
        var counters = ch.Query($"SELECT name, sum(value) FROM {db}.counters WHERE {inSessions} GROUP BY name", ct).ToDictionary(r => r[0], r => Long(r[1]));

        // Images merge by (path, kind, domain); a build-id only when the hosts agree on it. With per-instruction detail
        // they merge by build-id too: two builds of one path put other instructions at the same addresses.
        var images = new Dictionary<ImageId, StoredImage>();
        var imageByKey = new Dictionary<(string, int, int, string?), ImageId>();
        var imageOf = new Dictionary<(string, long), ImageId>();
        var builds = new Dictionary<(string Path, int Kind, int Domain), SortedDictionary<string, SortedSet<string>>>();
        foreach (var r in ch.Query($"SELECT session_id, image_id, path, build_id, kind, domain FROM {db}.images WHERE {inSessions} ORDER BY session_id, image_id", ct))
        {
            string? buildId = r[3].Length > 0 ? r[3].ToLowerInvariant() : null;
            var path = (r[2], int.Parse(r[4], CultureInfo.InvariantCulture), int.Parse(r[5], CultureInfo.InvariantCulture));
            var key = (path.Item1, path.Item2, path.Item3, options.WithDetails ? buildId : null);
            if (!imageByKey.TryGetValue(key, out var id))
            {
                imageByKey[key] = id = new ImageId(images.Count + 1);
                images[id] = new StoredImage(id, key.Item1, buildId, (ImageKind)key.Item2, key.Item3);
            }
            else if (images[id].BuildId != buildId) images[id] = images[id] with { BuildId = null };
            imageOf[(r[0], Long(r[1]))] = id;
            if (!builds.TryGetValue(path, out var ofPath)) builds[path] = ofPath = new(StringComparer.Ordinal);
            if (!ofPath.TryGetValue(buildId ?? "", out var hosts)) ofPath[buildId ?? ""] = hosts = new(StringComparer.Ordinal);
            hosts.Add(hostOf[r[0]]);
        }

        // Frames and stacks keep their sessions apart: new ids, one space for all.
        var frames = new Dictionary<FrameId, StoredFrame>();
        var frameOf = new Dictionary<(string, long), FrameId>();
        var names = new Dictionary<FrameId, string?>();
        var located = new Dictionary<FrameId, FrameSymbol?>();
        // (Read by leaf frame, only the frames that are some sample's leaf.)
        string leavesOnly = byFrame ? $" AND (session_id, frame_id) IN (SELECT session_id, frame_id FROM {db}.frame_totals WHERE {inSessions})" : "";
        foreach (var r in flat ? [] : ch.Query($"SELECT session_id, frame_id, image_id, offset, symbol, has_symbol, located, sym_start, sym_size, address FROM {db}.frames WHERE {inSessions}{leavesOnly}", ct))
        {
            var id = new FrameId(frames.Count + 1);
            frames[id] = new StoredFrame(id, imageOf[(r[0], Long(r[2]))], ULong(r[3]));
            frameOf[(r[0], Long(r[1]))] = id;
            names[id] = r[5] == "1" ? r[4] : null;
            located[id] = r[6] == "1" ? new FrameSymbol(r[4], ULong(r[7]), ULong(r[8]), ULong(r[9])) : null;
        }
        // With call stacks, every stack node of the selected sessions; without, one single-frame stack per sampled leaf
        // frame, made below from rows ClickHouse summed per leaf.
        var stackOf = new Dictionary<(string, long), StackId>();
        var stacks = new Dictionary<StackId, StoredStack>();
        if (options.WithStacks)
        {
            var stackRows = ch.Query($"SELECT session_id, stack_id, parent_id, frame_id FROM {db}.stacks WHERE {inSessions}", ct);
            stackOf.EnsureCapacity(stackRows.Count);
            foreach (var r in stackRows) stackOf[(r[0], Long(r[1]))] = new StackId(stackOf.Count + 1);
            foreach (var r in stackRows)
            {
                var id = stackOf[(r[0], Long(r[1]))];
                long parent = Long(r[2]);
                stacks[id] = new StoredStack(id, parent == 0 ? default : stackOf[(r[0], parent)], frameOf[(r[0], Long(r[3]))]);
            }
        }

        // Labels: thread names get new ids; processes and threads by (domain, id), the first host's where they collide.
        var comms = new Dictionary<CommId, string>();
        var commOf = new Dictionary<(string, int), CommId>();
        foreach (var r in ch.Query($"SELECT session_id, comm_id, name FROM {db}.comms WHERE {inSessions}", ct))
        {
            var id = new CommId(comms.Count + 1);
            comms[id] = r[2];
            commOf[(r[0], int.Parse(r[1], CultureInfo.InvariantCulture))] = id;
        }
        var domains = new Dictionary<int, string>();
        foreach (var r in ch.Query($"SELECT domain, name FROM {db}.domains WHERE {inSessions}", ct)) domains.TryAdd(Int(r[0]), r[1]);
        var processes = new Dictionary<(int, int), StoredProcess>();
        foreach (var r in ch.Query($"SELECT domain, pid, ppid, comm FROM {db}.processes WHERE {inSessions}", ct))
            processes.TryAdd((Int(r[0]), Int(r[1])), new StoredProcess(Int(r[0]), Int(r[1]), Int(r[2]), r[3]));
        var threads = new Dictionary<(int, int), (int, string)>();
        foreach (var r in ch.Query($"SELECT domain, tid, pid, comm FROM {db}.threads WHERE {inSessions}", ct)) threads.TryAdd((Int(r[0]), Int(r[1])), (Int(r[2]), r[3]));

        // The rows, summed in ClickHouse. A domain's report holds its own samples, dom0's also the passive domains'.
        var passive = ImageNames.PassiveDomains(meta);
        if (options.Domain is { } dom)
            Filter(passive.Contains(dom) ? "0" : dom == 0 ? $"domain IN ({Numbers(passive.Prepend(0))})" : $"domain = {Numbers([dom])}");
        var rows = new List<StackTotal>();
        var leafSamples = new Dictionary<(ImageId, string Host, bool Named), long>();
        string perStack = $"SELECT session_id, event_id, domain, pid, comm_id, stack_id, count() AS n, sum(weight) AS w, sum(period) AS pe, sum(period * period / greatest(weight, 1)) AS sq FROM {db}.samples{Where(sampleWhere)} "
                          + "GROUP BY session_id, event_id, domain, pid, comm_id, stack_id";
        // Without call stacks the sums go one step further in ClickHouse: per leaf frame (the stack node's own frame).
        // A flat report's rows name a leaf (image, symbol) where the others name a frame: one frame (and a stack of it) per
        // distinct leaf symbol of the merged images stands for all the frames it named.
        var flatFrames = new Dictionary<(ImageId, string?), long>();
        long FlatFrame(string session, long image, bool named, string symbol)
        {
            var key = (imageOf[(session, image)], named ? symbol : null);
            if (!flatFrames.TryGetValue(key, out var id))
            {
                flatFrames[key] = id = flatFrames.Count + 1;
                var frame = new FrameId(frames.Count + 1);
                frames[frame] = new StoredFrame(frame, key.Item1, 0);
                names[frame] = key.Item2;
                frameOf[("", id)] = frame;
            }
            return id;
        }
        string sql = flat ? "SELECT session_id, event_id, domain, pid, comm_id, image_id, has_symbol, symbol, sum(samples), sum(weight), sum(period), sum(period_squares) "
              + $"FROM {db}.symbol_totals{Where(totalsWhere)} GROUP BY session_id, event_id, domain, pid, comm_id, image_id, has_symbol, symbol"
            : options.WithStacks ? perStack
            : byFrame ? "SELECT session_id, event_id, domain, pid, comm_id, frame_id, sum(samples), sum(weight), sum(period), sum(period_squares) "
                        + $"FROM {db}.frame_totals{Where(totalsWhere)} GROUP BY session_id, event_id, domain, pid, comm_id, frame_id"
            : "SELECT session_id, event_id, domain, pid, comm_id, frame_id, sum(n), sum(w), sum(pe), sum(sq) FROM (" + perStack + ") "
              + $"ANY LEFT JOIN (SELECT session_id, stack_id, frame_id FROM {db}.stacks WHERE {inSessions}) USING (session_id, stack_id) "
              + "GROUP BY session_id, event_id, domain, pid, comm_id, frame_id";
        foreach (var q in ch.Query(sql, ct))
        {
            // A flat row as the others are: its frame in the leaf frame's column, samples onwards after it.
            var r = flat ? [q[0], q[1], q[2], q[3], q[4], FlatFrame(q[0], Long(q[5]), q[6] == "1", q[7]).ToString(CultureInfo.InvariantCulture), q[8], q[9], q[10], q[11]] : q;
            var ev = eventOf[(r[0], Long(r[1]))];
            int domain = Int(r[2]);
            if (only != null && !only.Contains(ev)) continue;
            if (options.Domain != null && ImageNames.ReportDomain(domain, passive) != options.Domain) continue;
            int comm = Int(r[4]);
            StackId stack;
            if (options.WithStacks) stack = stackOf[(r[0], Long(r[5]))];
            else if (!stackOf.TryGetValue((flat ? "" : r[0], Long(r[5])), out stack))
            {
                stackOf[(flat ? "" : r[0], Long(r[5]))] = stack = new StackId(stackOf.Count + 1);
                stacks[stack] = new StoredStack(stack, default, frameOf[(flat ? "" : r[0], Long(r[5]))]);
            }
            var row = new StackTotal(ev, domain, Int(r[3]), stack, Long(r[6]), Long(r[7]), comm == 0 ? default : commOf[(r[0], comm)],
                Long(r[8]), double.Parse(r[9], System.Globalization.CultureInfo.InvariantCulture));
            rows.Add(row);
            var leaf = stacks[stack].Frame;
            var key = (frames[leaf].Image, hostOf[r[0]], names[leaf] != null);
            leafSamples[key] = leafSamples.GetValueOrDefault(key) + row.Weight;
        }
        rows.Sort((a, b) => (a.Event.Value, a.Domain, a.Pid, a.Comm.Value, a.Stack.Value).CompareTo((b.Event.Value, b.Domain, b.Pid, b.Comm.Value, b.Stack.Value)));

        var tables = new ProfileTables(events, meta, counters, rows, [], 0, images, frames, stacks, names,
            new ProfileLabels(domains, processes, threads, comms), null, () => new Dictionary<(int, int), IReadOnlyList<ImageId>>(), located);
        var sampledImages = leafSamples.Keys.Select(k => images[k.Item1]).Select(i => (i.Path, (int)i.Kind, i.Domain)).ToHashSet();
        var warnings = PartlyKnown(leafSamples, images);
        warnings.AddRange(Builds(builds.Where(b => sampledImages.Contains(b.Key)), options.WithDetails));
        return ProfileBuilder.BuildFrom(options, only, tables, new PushedSymbols(warnings));
    }

    /// <summary>Whether every one of <paramref name="sessions"/> sessions has a row in both lists, with equal counts.</summary>
    private static bool SameCounts(List<string[]> totals, List<string[]> samples, int sessions)
    {
        var pushed = samples.ToDictionary(r => r[0], r => r[1]);
        return totals.Count == sessions && samples.Count == sessions && totals.All(r => pushed.TryGetValue(r[0], out var n) && n == r[1]);
    }

    /// <summary>One warning per sampled image path whose hosts recorded different builds (build-ids, "none" for an image
    /// pushed without one), naming each build's hosts.</summary>
    private static IEnumerable<string> Builds(IEnumerable<KeyValuePair<(string Path, int Kind, int Domain), SortedDictionary<string, SortedSet<string>>>> builds, bool apart)
    {
        foreach (var (key, ofPath) in builds.OrderBy(b => b.Key.Path, StringComparer.Ordinal))
        {
            if (ofPath.Count < 2) continue;
            var each = string.Join("; ", ofPath.Select(b => $"build-id {(b.Key.Length > 0 ? b.Key : "none")} on host {string.Join(",", b.Value)}"));
            yield return $"{key.Path}: the hosts recorded different builds ({each}); "
                         + (apart ? "its addresses are reported per build-id" : "its symbols are merged by name");
        }
    }

    /// <summary>One warning per image whose samples have symbols on some hosts and none on others.</summary>
    private static List<string> PartlyKnown(Dictionary<(ImageId Image, string Host, bool Named), long> leafSamples, Dictionary<ImageId, StoredImage> images)
    {
        var warnings = new List<string>();
        foreach (var image in leafSamples.Keys.Select(k => k.Image).Distinct().OrderBy(i => i.Value))
        {
            var hosts = leafSamples.Keys.Where(k => k.Image == image).Select(k => k.Host).Distinct().Order(StringComparer.Ordinal).ToList();
            var knowing = hosts.Where(h => leafSamples.GetValueOrDefault((image, h, true)) > 0).ToList();
            var blind = hosts.Where(h => !knowing.Contains(h)).ToList();
            if (knowing.Count == 0 || blind.Count == 0) continue;
            long unnamed = blind.Sum(h => leafSamples.GetValueOrDefault((image, h, false)));
            warnings.Add($"{ProfileBuilder.DisplayName(images[image])}: symbols known on host {string.Join(",", knowing)} only; "
                         + $"its {unnamed} samples from host {string.Join(",", blind)} are reported as {Profile.NoSymbols}");
        }
        return warnings;
    }

    private static string Describe(FleetSelection s)
    {
        var parts = new List<string>();
        if (s.Hosts.Count > 0) parts.Add("host:" + string.Join(",", s.Hosts));
        if (s.Sessions.Count > 0) parts.Add("session:" + string.Join(",", s.Sessions));
        if (s.From != null) parts.Add("--from " + s.From.Value.ToString("O", CultureInfo.InvariantCulture));
        if (s.To != null) parts.Add("--to " + s.To.Value.ToString("O", CultureInfo.InvariantCulture));
        return parts.Count > 0 ? string.Join(" ", parts) : "(all)";
    }

    private static string EventTerms(ProfileOptions o) => string.Join(' ', new[]
    {
        o.Event == null ? null : "event:" + o.Event,
        o.Count == null ? null : "count:" + o.Count.Value.ToString(CultureInfo.InvariantCulture),
        o.UnitMask == null ? null : "unit-mask:" + o.UnitMask.Value.ToString(CultureInfo.InvariantCulture),
    }.Where(x => x != null));

    private static string Numbers(IEnumerable<int> values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
    private static string Where(List<string> conditions) => conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
    private static string List(IEnumerable<string> values) => string.Join(", ", values.Select(ClickHouseHttp.Quote));
    private static long UnixNs(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
    private static long Long(string s) => long.Parse(s, CultureInfo.InvariantCulture);
    private static ulong ULong(string s) => ulong.Parse(s, CultureInfo.InvariantCulture);
    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>Every pushed frame carries its name already; this symbolizer only carries the fleet's warnings.</summary>
    private sealed class PushedSymbols(IReadOnlyList<string> warnings) : IFrameSymbolizer, IFrameAddressSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset) => null;
        public FrameSymbol? Locate(StoredImage image, ulong offset) => null;
        public IReadOnlyList<string> Warnings => warnings;
    }
}
