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
        var where = new List<string>();
        if (domain != null) where.Add("domain = $dom");
        if (fromNs != null) where.Add("time_ns >= $from");
        if (toNs != null) where.Add("time_ns < $to");
        var sql = "SELECT event_id, domain, pid, stack_id, COUNT(*), SUM(weight) FROM samples"
                  + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
                  + " GROUP BY event_id, domain, pid, stack_id";
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
}
