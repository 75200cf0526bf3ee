namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>All <c>meta</c> keys and values.</summary>
    public IReadOnlyDictionary<string, string> ReadMeta()
    {
        var d = new Dictionary<string, string>();
        using var r = Query("SELECT key, value FROM meta");
        while (r.Read()) d[r.GetString(0)] = r.GetString(1);
        return d;
    }

    /// <summary>Events in id order.</summary>
    public IReadOnlyList<StoredEvent> ReadEvents()
    {
        var list = new List<StoredEvent>();
        using var r = Query("SELECT id, name, perf_type, perf_config, count, unit_mask, kernel, user, unit, description FROM events ORDER BY id");
        while (r.Read())
            list.Add(new StoredEvent(r.GetString(1), (uint)r.GetInt64(2), unchecked((ulong)r.GetInt64(3)), unchecked((ulong)r.GetInt64(4)),
                (uint)r.GetInt64(5), r.GetInt64(6) != 0, r.GetInt64(7) != 0, r.GetString(8), r.GetString(9)) { Id = new EventId(r.GetInt64(0)) });
        return list;
    }

    /// <summary>Images by id.</summary>
    public IReadOnlyDictionary<ImageId, StoredImage> ReadImages()
    {
        var d = new Dictionary<ImageId, StoredImage>();
        using var r = Query("SELECT id, path, build_id, kind, domain FROM images");
        while (r.Read())
        {
            var id = new ImageId(r.GetInt64(0));
            d[id] = new StoredImage(id, r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), (ImageKind)r.GetInt32(3), r.GetInt32(4));
        }
        return d;
    }

    /// <summary>Frames by id, in id order (an <see cref="IdMap{TKey, TValue}"/>).</summary>
    public IReadOnlyDictionary<FrameId, StoredFrame> ReadFrames()
    {
        var (max, count) = IdRange("frames");
        return IdMap<FrameId, StoredFrame>.FromRows(max, count, k => k.Value, v => new FrameId(v), FrameRows());

        IEnumerable<(long, StoredFrame)> FrameRows()
        {
            using var r = Rows("SELECT id, image_id, offset FROM frames");
            while (r.Step())
            {
                var id = new FrameId(r.Int64(0));
                yield return (id.Value, new StoredFrame(id, new ImageId(r.Int64(1)), unchecked((ulong)r.Int64(2))));
            }
        }
    }

    /// <summary>Frames whose id is above <paramref name="afterId"/>, in id order: what a store that grows added since it was last read.</summary>
    public List<StoredFrame> ReadFramesAfter(long afterId)
    {
        var list = new List<StoredFrame>();
        using var r = Rows("SELECT id, image_id, offset FROM frames WHERE id > ?1 ORDER BY id", afterId);
        while (r.Step()) list.Add(new StoredFrame(new FrameId(r.Int64(0)), new ImageId(r.Int64(1)), unchecked((ulong)r.Int64(2))));
        return list;
    }

    /// <summary>Stack nodes whose id is above <paramref name="afterId"/>, in id order: what a store that grows added since it was last read.</summary>
    public List<StoredStack> ReadStacksAfter(long afterId)
    {
        var list = new List<StoredStack>();
        using var r = Rows("SELECT id, parent_id, frame_id FROM stacks WHERE id > ?1 ORDER BY id", afterId);
        while (r.Step()) list.Add(new StoredStack(new StackId(r.Int64(0)), new StackId(r.Int64(1)), new FrameId(r.Int64(2))));
        return list;
    }

    /// <summary>
    /// Names the source gave its frames (<c>frame_names</c>): frame id to name, null where the source said it found
    /// no symbol; frames the source left to the symbolizer are absent.
    /// </summary>
    public IReadOnlyDictionary<FrameId, string?> ReadFrameNames()
    {
        var d = new Dictionary<FrameId, string?>();
        using var r = Query("SELECT frame_id, name FROM frame_names");
        while (r.Read()) d[new FrameId(r.GetInt64(0))] = r.IsDBNull(1) ? null : r.GetString(1);
        return d;
    }

    /// <summary>Stack nodes by id, in id order (a <see cref="StackNodes"/>: two 32-bit ids per node).</summary>
    public IReadOnlyDictionary<StackId, StoredStack> ReadStacks()
    {
        var (max, count) = IdRange("stacks");
        using var r = Rows("SELECT id, parent_id, frame_id FROM stacks");
        if (max <= int.MaxValue - 1 && max <= 4 * count + 1024)
        {
            var nodes = new StackNodes((int)max);
            while (r.Step()) nodes.Set(r.Int64(0), r.Int64(1), r.Int64(2));
            return nodes;
        }
        var d = new Dictionary<StackId, StoredStack>((int)Math.Min(count, 1 << 28));
        while (r.Step())
        {
            var id = new StackId(r.Int64(0));
            if (id.Value > max) continue;
            d[id] = new StoredStack(id, new StackId(r.Int64(1)), new FrameId(r.Int64(2)));
        }
        return d;
    }

    /// <summary>Processes keyed by (domain, pid).</summary>
    public IReadOnlyDictionary<(int Domain, int Pid), StoredProcess> ReadProcesses()
    {
        var d = new Dictionary<(int, int), StoredProcess>();
        using var r = Query("SELECT domain, pid, ppid, comm FROM processes");
        while (r.Read()) d[(r.GetInt32(0), r.GetInt32(1))] = new StoredProcess(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3));
        return d;
    }

    /// <summary>
    /// The ELF images each (domain, pid) mapped, in mapping order (time, then start address): what reports take a
    /// process's application image from (opreport <c>--separate=lib</c>). Mappings of other image kinds are left out.
    /// </summary>
    public IReadOnlyDictionary<(int Domain, int Pid), IReadOnlyList<ImageId>> ReadProcessImages()
    {
        var d = new Dictionary<(int, int), List<ImageId>>();
        using var r = Query("SELECT m.domain, m.pid, m.image_id FROM mappings m JOIN images i ON i.id = m.image_id WHERE i.kind = $k ORDER BY m.time_ns, m.start, m.id",
            ("$k", (int)ImageKind.Elf));
        while (r.Read())
        {
            var key = (r.GetInt32(0), r.GetInt32(1));
            if (!d.TryGetValue(key, out var list)) d[key] = list = [];
            var id = new ImageId(r.GetInt64(2));
            if (!list.Contains(id)) list.Add(id);
        }
        return d.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<ImageId>)kv.Value);
    }

    /// <summary>Counters by name (absent counters are 0).</summary>
    public IReadOnlyDictionary<string, long> ReadCounters()
    {
        var d = new Dictionary<string, long>();
        using var r = Query("SELECT name, value FROM counters");
        while (r.Read()) d[r.GetString(0)] = r.GetInt64(1);
        return d;
    }

    /// <summary><c>meta</c> key holding the sample log's committed length in bytes (schema v3).</summary>
    internal const string SampleLogBytesKey = "sample_log_bytes";

    /// <summary>On a writer, puts its pending samples and totals into the open transaction, so its own reads see them.</summary>
    private void FlushForRead()
    {
        if (IsWritable && _log != null) FlushPending(durable: false);
    }

    /// <summary>Committed length of the sample log in bytes (a writer's own pending samples are flushed first).</summary>
    private long CommittedLogBytes()
    {
        FlushForRead();
        var v = ScalarString($"SELECT value FROM meta WHERE key='{SampleLogBytesKey}'");
        return v != null && long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>Bytes of v4 (40-byte) records the sample log of a migrated store starts with; 0 for a store created at version 5.</summary>
    private long LegacyLogBytes()
    {
        var v = ScalarString($"SELECT value FROM meta WHERE key='{StoreSchema.LegacyLogBytesKey}'");
        return v != null && long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>
    /// Bytes the database says the sample log holds but the file lacks (a store copied without its
    /// <c>samples.db-samples</c>, or cut short by a machine crash); 0 when whole. Set by the last full read.
    /// </summary>
    public long SampleLogBytesMissing { get; private set; }

    /// <summary>
    /// Sample totals grouped by (event, domain, pid, stack), optionally restricted to one domain and a
    /// time window [<paramref name="fromNs"/>, <paramref name="toNs"/>). Without a window they come from
    /// <c>stack_totals</c> (no per-sample work); with one, from a pass over the sample log.
    /// </summary>
    public IEnumerable<StackTotal> ReadStackTotals(int? domain = null, long? fromNs = null, long? toNs = null)
    {
        if (fromNs == null && toNs == null)
        {
            FlushForRead();
            var sql = "SELECT event_id, domain, pid, stack_id, samples, weight, comm_id, period, period_sq FROM stack_totals"
                      + (domain != null ? " WHERE domain = ?" : "") + " ORDER BY event_id, domain, pid, comm_id, stack_id";
            using var r = domain != null ? Rows(sql, domain.Value) : Rows(sql);
            while (r.Step())
                yield return new StackTotal(new EventId(r.Int64(0)), r.Int32(1), r.Int32(2), new StackId(r.Int64(3)), r.Int64(4), r.Int64(5),
                    new CommId(r.Int32(6)), r.Int64(7), r.Double(8));
            yield break;
        }
        var sums = new Dictionary<TotalKey, PendingTotal>();
        foreach (var s in ReadSamplesUnordered(domain, fromNs, toNs))
        {
            ref var t = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, new TotalKey(s.Event.Value, s.Stack.Value, s.Domain, s.Pid, s.Comm.Value), out _);
            t.Samples++;
            t.Weight += s.Weight;
            t.Period += s.Period;
            t.PeriodSquares += StackTotal.SquaresOf(s.Weight, s.Period);
        }
        foreach (var (k, v) in sums.OrderBy(kv => kv.Key.Event).ThenBy(kv => kv.Key.Domain).ThenBy(kv => kv.Key.Pid).ThenBy(kv => kv.Key.Comm).ThenBy(kv => kv.Key.Stack))
            yield return new StackTotal(new EventId(k.Event), k.Domain, k.Pid, new StackId(k.Stack), v.Samples, v.Weight, new CommId(k.Comm), v.Period, v.PeriodSquares);
    }

    /// <summary>Number of rows of <c>stack_totals</c> (at most 2^28): a capacity for the list of <see cref="ReadStackTotals"/>.</summary>
    public int CountStackTotals()
    {
        FlushForRead();
        return CountRows("stack_totals");
    }

    /// <summary>Number of samples (sample log records) committed.</summary>
    public long CountSamples() => SampleLog.Count(CommittedLogBytes(), LegacyLogBytes());

    /// <summary>
    /// Every sample in time order (ties in storage order), optionally of one domain. For time-ordered exports
    /// (speedscope, Chrome trace) and timelines. Holds the selected samples in memory when the log is not already
    /// in time order (several rings drained in turn can interleave); streams otherwise.
    /// </summary>
    public IEnumerable<StoredSample> ReadSamples(int? domain = null)
    {
        var list = new List<StoredSample>();
        long last = long.MinValue;
        bool sorted = true;
        foreach (var s in ReadSamplesUnordered(domain))
        {
            if (s.TimeNs < last) sorted = false;
            last = s.TimeNs;
            list.Add(s);
        }
        if (!sorted)
        {
            var keys = new (long Time, int Index)[list.Count];
            for (int i = 0; i < keys.Length; i++) keys[i] = (list[i].TimeNs, i);
            var items = list.ToArray();
            Array.Sort(keys, items);
            return items;
        }
        return list;
    }

    /// <summary>Time of the earliest sample (ns, the source's clock), or null when there are none.</summary>
    public long? FirstSampleTime()
    {
        long? first = null;
        foreach (var s in ReadSamplesUnordered()) if (first == null || s.TimeNs < first) first = s.TimeNs;
        return first;
    }

    /// <summary>Thread names by id (<c>comms</c>).</summary>
    public IReadOnlyDictionary<CommId, string> ReadComms()
    {
        var d = new Dictionary<CommId, string>();
        using var r = Query("SELECT id, name FROM comms");
        while (r.Read()) d[new CommId(r.GetInt32(0))] = r.GetString(1);
        return d;
    }

    /// <summary>Threads keyed by (domain, tid): owning pid and name.</summary>
    public IReadOnlyDictionary<(int Domain, int Tid), (int Pid, string Comm)> ReadThreads()
    {
        var d = new Dictionary<(int, int), (int, string)>();
        using var r = Query("SELECT domain, tid, pid, comm FROM threads");
        while (r.Read()) d[(r.GetInt32(0), r.GetInt32(1))] = (r.GetInt32(2), r.GetString(3));
        return d;
    }

    /// <summary>Domains: Xen domain id to name.</summary>
    public IReadOnlyDictionary<int, string> ReadDomains()
    {
        var d = new Dictionary<int, string>();
        using var r = Query("SELECT domid, name FROM domains");
        while (r.Read()) d[r.GetInt32(0)] = r.GetString(1);
        return d;
    }

    /// <summary>
    /// Checks the store's references, in the spirit of pprof's CheckValid: every sample names an existing
    /// event and a non-root stack, every stack an existing frame and parent, every frame an existing image, every frame name an existing frame
    /// (and every frame of a managed module has one), and the sample log agrees with <c>stack_totals</c>.
    /// Returns the problems found (empty when valid), at most 20.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Add(long n, string what) { if (n > 0 && problems.Count < 20) problems.Add($"{n} {what}"); }
        void Check(string what, string sql)
        {
            using var c = _db.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = sql;
            Add((long)c.ExecuteScalar()!, what);
        }
        Check("sample totals with an unknown event", "SELECT COUNT(*) FROM stack_totals WHERE event_id NOT IN (SELECT id FROM events)");
        Check("sample totals with an unknown or empty stack", "SELECT COUNT(*) FROM stack_totals WHERE stack_id NOT IN (SELECT id FROM stacks)");
        Check("stacks with an unknown frame", "SELECT COUNT(*) FROM stacks WHERE frame_id NOT IN (SELECT id FROM frames)");
        Check("stacks with an unknown parent", "SELECT COUNT(*) FROM stacks WHERE parent_id <> 0 AND parent_id NOT IN (SELECT id FROM stacks)");
        Check("stacks whose parent is not older", "SELECT COUNT(*) FROM stacks WHERE parent_id >= id");
        Check("frames with an unknown image", "SELECT COUNT(*) FROM frames WHERE image_id NOT IN (SELECT id FROM images)");
        Check("mappings with an unknown image", "SELECT COUNT(*) FROM mappings WHERE image_id NOT IN (SELECT id FROM images)");
        Check("frame names of an unknown frame", "SELECT COUNT(*) FROM frame_names WHERE frame_id NOT IN (SELECT id FROM frames)");
        Check("empty frame names", "SELECT COUNT(*) FROM frame_names WHERE name = ''");
        Check("managed-module frames without a name", "SELECT COUNT(*) FROM frames f JOIN images i ON i.id = f.image_id WHERE i.kind = " + (int)ImageKind.Managed + " AND f.id NOT IN (SELECT frame_id FROM frame_names)");

        var events = ReadEvents().Select(e => e.Id.Value).ToHashSet();
        var stacks = new HashSet<long>();
        using (var r = Query("SELECT id FROM stacks")) while (r.Read()) stacks.Add(r.GetInt64(0));
        long badEvent = 0, badStack = 0, badWeight = 0, badPeriod = 0, records = 0, weight = 0, period = 0;
        foreach (var s in ReadSamplesUnordered())
        {
            records++;
            weight += s.Weight;
            period += s.Period;
            if (!events.Contains(s.Event.Value)) badEvent++;
            if (!stacks.Contains(s.Stack.Value)) badStack++;
            if (s.Weight < 1) badWeight++;
            if (s.Period < 1) badPeriod++;
        }
        Add(badEvent, "samples with an unknown event");
        Add(badStack, "samples with an unknown or empty stack");
        Add(badWeight, "samples with a weight below 1");
        Add(badPeriod, "samples with a period below 1");
        Add(SampleLogBytesMissing, $"bytes missing from the sample log {SampleLog.PathFor(Path)}");
        using (var r = Query("SELECT COALESCE(SUM(samples), 0), COALESCE(SUM(weight), 0), COALESCE(SUM(period), 0) FROM stack_totals"))
            if (r.Read() && (r.GetInt64(0) != records || r.GetInt64(1) != weight || r.GetInt64(2) != period) && problems.Count < 20)
                problems.Add($"sample log holds {records} samples (weight {weight}, period {period}) but stack_totals sums {r.GetInt64(0)} (weight {r.GetInt64(1)}, period {r.GetInt64(2)})");
        return problems;
    }

    /// <summary>One stack node by id; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public StoredStack ReadStacksFor(StackId id)
    {
        using var r = Query("SELECT parent_id, frame_id FROM stacks WHERE id = $i", ("$i", id.Value));
        if (!r.Read()) throw new KeyNotFoundException($"stack {id.Value} not in {Path}");
        return new StoredStack(id, new StackId(r.GetInt64(0)), new FrameId(r.GetInt64(1)));
    }
}
