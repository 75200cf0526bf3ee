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
        using var r = Query("SELECT id, path, build_id, kind FROM images");
        while (r.Read())
        {
            var id = new ImageId(r.GetInt64(0));
            d[id] = new StoredImage(id, r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), (ImageKind)r.GetInt32(3));
        }
        return d;
    }

    /// <summary>Frames by id.</summary>
    public IReadOnlyDictionary<FrameId, StoredFrame> ReadFrames()
    {
        var d = new Dictionary<FrameId, StoredFrame>();
        using var r = Query("SELECT id, image_id, offset FROM frames");
        while (r.Read())
        {
            var id = new FrameId(r.GetInt64(0));
            d[id] = new StoredFrame(id, new ImageId(r.GetInt64(1)), unchecked((ulong)r.GetInt64(2)));
        }
        return d;
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

    /// <summary>Stack nodes by id.</summary>
    public IReadOnlyDictionary<StackId, StoredStack> ReadStacks()
    {
        var d = new Dictionary<StackId, StoredStack>();
        using var r = Query("SELECT id, parent_id, frame_id FROM stacks");
        while (r.Read())
        {
            var id = new StackId(r.GetInt64(0));
            d[id] = new StoredStack(id, new StackId(r.GetInt64(1)), new FrameId(r.GetInt64(2)));
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

    /// <summary>Counters by name (absent counters are 0).</summary>
    public IReadOnlyDictionary<string, long> ReadCounters()
    {
        var d = new Dictionary<string, long>();
        using var r = Query("SELECT name, value FROM counters");
        while (r.Read()) d[r.GetString(0)] = r.GetInt64(1);
        return d;
    }

    /// <summary>
    /// Sample totals grouped by (event, domain, pid, stack), optionally restricted to one domain and a
    /// time window [<paramref name="fromNs"/>, <paramref name="toNs"/>).
    /// </summary>
    public IEnumerable<StackTotal> ReadStackTotals(int? domain = null, long? fromNs = null, long? toNs = null)
    {
        var sql = "SELECT event_id, domain, pid, stack_id, COUNT(*), SUM(weight) FROM samples"
                  + SampleFilter(domain, fromNs, toNs) + " GROUP BY event_id, domain, pid, stack_id";
        using var r = Query(sql, ("$dom", domain), ("$from", fromNs), ("$to", toNs));
        while (r.Read())
            yield return new StackTotal(new EventId(r.GetInt64(0)), r.GetInt32(1), r.GetInt32(2), new StackId(r.GetInt64(3)), r.GetInt64(4), r.GetInt64(5));
    }

    /// <summary>Number of sample rows.</summary>
    public long CountSamples()
    {
        using var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = "SELECT COUNT(*) FROM samples";
        return (long)c.ExecuteScalar()!;
    }

    /// <summary>
    /// Every sample row in time order (ties in insertion order), optionally of one domain, streamed.
    /// For time-ordered exports (speedscope, Chrome trace) and timelines.
    /// </summary>
    public IEnumerable<StoredSample> ReadSamples(int? domain = null) => ReadSampleRows(domain, null, null, " ORDER BY time_ns, rowid");

    /// <summary>The WHERE clause for an optional domain and time window [from, to) ($dom, $from, $to), or "".</summary>
    private static string SampleFilter(int? domain, long? fromNs, long? toNs)
    {
        var where = new List<string>();
        if (domain != null) where.Add("domain = $dom");
        if (fromNs != null) where.Add("time_ns >= $from");
        if (toNs != null) where.Add("time_ns < $to");
        return where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "";
    }

    /// <summary>Sample rows selected by <see cref="SampleFilter"/>, in the order <paramref name="orderBy"/> gives (or storage order).</summary>
    private IEnumerable<StoredSample> ReadSampleRows(int? domain, long? fromNs, long? toNs, string orderBy)
    {
        var sql = "SELECT time_ns, cpu, domain, pid, tid, event_id, stack_id, mode, weight FROM samples"
                  + SampleFilter(domain, fromNs, toNs) + orderBy;
        using var r = Query(sql, ("$dom", domain), ("$from", fromNs), ("$to", toNs));
        while (r.Read())
            yield return new StoredSample(r.GetInt64(0), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4),
                new EventId(r.GetInt64(5)), new StackId(r.GetInt64(6)), (SampleMode)r.GetInt32(7), r.GetInt64(8));
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
    /// (and every frame of a managed module has one).
    /// Returns the problems found (empty when valid), at most 20.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Check(string what, string sql)
        {
            using var c = _db.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = sql;
            var n = (long)c.ExecuteScalar()!;
            if (n > 0 && problems.Count < 20) problems.Add($"{n} {what}");
        }
        Check("samples with an unknown event", "SELECT COUNT(*) FROM samples WHERE event_id NOT IN (SELECT id FROM events)");
        Check("samples with an unknown or empty stack", "SELECT COUNT(*) FROM samples WHERE stack_id NOT IN (SELECT id FROM stacks)");
        Check("stacks with an unknown frame", "SELECT COUNT(*) FROM stacks WHERE frame_id NOT IN (SELECT id FROM frames)");
        Check("stacks with an unknown parent", "SELECT COUNT(*) FROM stacks WHERE parent_id <> 0 AND parent_id NOT IN (SELECT id FROM stacks)");
        Check("stacks whose parent is not older", "SELECT COUNT(*) FROM stacks WHERE parent_id >= id");
        Check("frames with an unknown image", "SELECT COUNT(*) FROM frames WHERE image_id NOT IN (SELECT id FROM images)");
        Check("mappings with an unknown image", "SELECT COUNT(*) FROM mappings WHERE image_id NOT IN (SELECT id FROM images)");
        Check("samples with a weight below 1", "SELECT COUNT(*) FROM samples WHERE weight < 1");
        Check("frame names of an unknown frame", "SELECT COUNT(*) FROM frame_names WHERE frame_id NOT IN (SELECT id FROM frames)");
        Check("empty frame names", "SELECT COUNT(*) FROM frame_names WHERE name = ''");
        Check("managed-module frames without a name", "SELECT COUNT(*) FROM frames f JOIN images i ON i.id = f.image_id WHERE i.kind = " + (int)ImageKind.Managed + " AND f.id NOT IN (SELECT frame_id FROM frame_names)");
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
