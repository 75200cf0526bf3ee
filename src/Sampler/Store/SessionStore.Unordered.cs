namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>
    /// Every sample row in storage order (no sorting, no grouping), optionally of one domain and a time window
    /// [<paramref name="fromNs"/>, <paramref name="toNs"/>), streamed. The cheapest full read: for aggregations that
    /// need no time order (flame graphs of 1M samples aggregate faster in memory than through GROUP BY).
    /// </summary>
    public IEnumerable<StoredSample> ReadSamplesUnordered(int? domain = null, long? fromNs = null, long? toNs = null) =>
        ReadSampleRows(domain, fromNs, toNs, "");
}
