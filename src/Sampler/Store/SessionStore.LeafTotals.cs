namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>
    /// <c>meta</c> key of the leaf totals (<see cref="WriteLeafTotals"/>): the symbolizer configuration they were named
    /// with and the number of committed samples they sum, as <c>CONFIGURATION;SAMPLES</c>.
    /// </summary>
    public const string LeafTotalsKey = "leaf_totals";

    internal const string LeafTotalsSql = """
        CREATE TABLE IF NOT EXISTS leaf_totals(event_id INTEGER NOT NULL, domain INTEGER NOT NULL, pid INTEGER NOT NULL,
            comm_id INTEGER NOT NULL, image_id INTEGER NOT NULL, name TEXT, samples INTEGER NOT NULL, weight INTEGER NOT NULL,
            period INTEGER NOT NULL, period_sq REAL NOT NULL);
        """;

    /// <summary>
    /// <c>stack_totals</c> with each stack's leaf (sampled) frame in place of the stack: one row per stored row, in no
    /// particular order. The input of <see cref="WriteLeafTotals"/>.
    /// </summary>
    public IEnumerable<LeafFrameTotal> ReadLeafFrameTotals()
    {
        FlushForRead();
        using var r = Rows("SELECT t.event_id, t.domain, t.pid, t.comm_id, s.frame_id, t.samples, t.weight, t.period, t.period_sq "
                           + "FROM stack_totals t JOIN stacks s ON s.id = t.stack_id");
        while (r.Step())
            yield return new LeafFrameTotal(new EventId(r.Int64(0)), r.Int32(1), r.Int32(2), new CommId(r.Int32(3)), new FrameId(r.Int64(4)),
                r.Int64(5), r.Int64(6), r.Int64(7), r.Double(8));
    }

    /// <summary>
    /// Replaces the leaf totals with <paramref name="totals"/>: the session's samples summed per (event, domain, pid, comm,
    /// leaf image, leaf symbol), named by a symbolizer configured as <paramref name="configuration"/> over the
    /// <paramref name="samples"/> samples committed now. A flat report (no call stacks, no per-instruction detail, no
    /// filter on a sample's thread, CPU or time) reads these few rows instead of every stack, frame and cached symbol.
    /// Throws <see cref="StoreException"/> on a read-only store.
    /// </summary>
    public void WriteLeafTotals(IEnumerable<LeafTotal> totals, string configuration, long samples)
    {
        RequireWritable();
        Exec(LeafTotalsSql);
        Exec("DELETE FROM leaf_totals");
        using (var c = Prepare("INSERT INTO leaf_totals(event_id, domain, pid, comm_id, image_id, name, samples, weight, period, period_sq) "
                               + "VALUES ($e,$d,$p,$c,$i,$n,$s,$w,$q,$r)", "$e", "$d", "$p", "$c", "$i", "$n", "$s", "$w", "$q", "$r"))
        {
            var p = c.Parameters;
            foreach (var t in totals)
            {
                p[0].Value = t.Event.Value; p[1].Value = t.Domain; p[2].Value = t.Pid; p[3].Value = t.Comm.Value; p[4].Value = t.Image.Value;
                p[5].Value = (object?)t.Name ?? DBNull.Value; p[6].Value = t.Samples; p[7].Value = t.Weight; p[8].Value = t.Period;
                p[9].Value = t.PeriodSquares;
                Write(c);
            }
        }
        SetMeta(LeafTotalsKey, LeafTotalsStamp(configuration, samples));
    }

    /// <summary>
    /// The leaf totals written with <paramref name="configuration"/>, or null when there are none, they were named with
    /// another configuration, or samples were committed since (a daemon still writing): then a report reads the stacks.
    /// </summary>
    public List<LeafTotal>? ReadLeafTotals(string configuration)
    {
        if (ScalarString($"SELECT value FROM meta WHERE key='{LeafTotalsKey}'") != LeafTotalsStamp(configuration, CountSamples())) return null;
        var list = new List<LeafTotal>(CountRows("leaf_totals"));
        var names = new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        using var r = Rows("SELECT event_id, domain, pid, comm_id, image_id, name, samples, weight, period, period_sq FROM leaf_totals");
        while (r.Step())
            list.Add(new LeafTotal(new EventId(r.Int64(0)), r.Int32(1), r.Int32(2), new CommId(r.Int32(3)), new ImageId(r.Int64(4)), r.Text(5, names),
                r.Int64(6), r.Int64(7), r.Int64(8), r.Double(9)));
        return list;
    }

    private static string LeafTotalsStamp(string configuration, long samples) =>
        configuration + ";" + samples.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A <c>stack_totals</c> row with its stack's leaf frame (<see cref="SessionStore.ReadLeafFrameTotals"/>); sums as in <see cref="StackTotal"/>.</summary>
public readonly record struct LeafFrameTotal(EventId Event, int Domain, int Pid, CommId Comm, FrameId Frame, long Samples, long Weight,
    long Period, double PeriodSquares);

/// <summary>
/// Samples summed per (event, domain, pid, comm, leaf image, leaf symbol name; null: no symbol there), as
/// <see cref="SessionStore.WriteLeafTotals"/> keeps them; sums as in <see cref="StackTotal"/> (samples: records; weight:
/// samples; period: events in the event's unit; period squares for weighted error bars).
/// </summary>
public readonly record struct LeafTotal(EventId Event, int Domain, int Pid, CommId Comm, ImageId Image, string? Name, long Samples, long Weight,
    long Period, double PeriodSquares);
