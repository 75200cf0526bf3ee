namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>
    /// Every sample row in storage order (no sorting, no grouping), optionally of one domain and a time window
    /// [<paramref name="fromNs"/>, <paramref name="toNs"/>), streamed. The cheapest full read: for aggregations that
    /// need no time order (flame graphs of 1M samples aggregate faster in memory than through GROUP BY).
    /// </summary>
    public IEnumerable<StoredSample> ReadSamplesUnordered(int? domain = null, long? fromNs = null, long? toNs = null)
    {
        var where = new List<string>();
        if (domain != null) where.Add("domain = $dom");
        if (fromNs != null) where.Add("time_ns >= $from");
        if (toNs != null) where.Add("time_ns < $to");
        var sql = "SELECT time_ns, cpu, domain, pid, tid, event_id, stack_id, mode, weight FROM samples"
                  + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "");
        using var r = Query(sql, ("$dom", domain), ("$from", fromNs), ("$to", toNs));
        while (r.Read())
            yield return new StoredSample(r.GetInt64(0), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4),
                new EventId(r.GetInt64(5)), new StackId(r.GetInt64(6)), (SampleMode)r.GetInt32(7), r.GetInt64(8));
    }
}
