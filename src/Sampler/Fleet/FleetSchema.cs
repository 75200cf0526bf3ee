using System.Globalization;

namespace XenProf.Sampler.Fleet;

/// <summary>
/// The ClickHouse tables sessions are pushed into, one database for many hosts. Every table carries the pushed
/// session's id and the number of the batch its row came in; rows of one session and table are sent in numbered
/// batches, each one INSERT of at most <see cref="FleetPushOptions.BatchRows"/> rows into an unpartitioned MergeTree,
/// which ClickHouse writes as one part or not at all (an INSERT of fewer rows than <c>max_insert_block_size</c>,
/// 1,048,576 by default, is one block). A batch is numbered by the position of its first sample in the store (0-based)
/// or its first row's id, so the batches a table holds say which rows it has (<see cref="FleetPush.Push"/>); a push
/// sends only the rest, and the <c>sessions</c> row (one per push), written after the batches, makes a session
/// reportable. This needs no ReplacingMergeTree, no FINAL and no insert deduplication, so it works the same on 18.16
/// and on current servers. (Pushes before the batch numbers were positions numbered them 0, 1, 2…: a session such a
/// push left half-done is pushed anew into another database.)
/// <para>
/// <c>samples</c> is ordered by (host, session_id, event_id, stack_id), the report queries' GROUP BY; the other tables
/// by (session_id, batch, their id). Schema changes bump <see cref="Version"/>, kept in <c>schema_version</c>.
/// </para>
/// <para>
/// Version 2 added <c>symbol_totals</c>: the session's samples summed at push time per (event, domain, pid, thread
/// name, leaf image, leaf symbol), what a flat report (image or symbol summary) needs, a few thousand rows where the
/// samples are a million. Sessions pushed under version 1 have none; reports read their samples instead. Since then,
/// still under version 2 (older readers ignore it), <c>frame_totals</c> holds the same sums per leaf frame, for the
/// reports by instruction. Both hold one set of sums per batch of samples, and a report reads them only where they
/// count every pushed sample of its sessions.
/// </para>
/// </summary>
public static class FleetSchema
{
    /// <summary>The schema version this code writes and reads.</summary>
    public const int Version = 2;

    /// <summary>Default database name.</summary>
    public const string DefaultDatabase = "xenprof";

    /// <summary>The per-session tables in push order (samples after everything they name) and their columns.</summary>
    public static readonly IReadOnlyList<(string Table, string Columns)> Tables =
    [
        ("meta", "session_id String, batch UInt32, key String, value String"),
        ("counters", "session_id String, batch UInt32, name String, value Int64"),
        ("events", "session_id String, batch UInt32, event_id Int64, name String, perf_type UInt32, perf_config UInt64, count UInt64, unit_mask UInt32, kernel UInt8, user UInt8, unit String, description String"),
        ("domains", "session_id String, batch UInt32, domain Int32, name String"),
        ("processes", "session_id String, batch UInt32, domain Int32, pid Int32, ppid Int32, comm String"),
        ("threads", "session_id String, batch UInt32, domain Int32, tid Int32, pid Int32, comm String"),
        ("comms", "session_id String, batch UInt32, comm_id Int32, name String"),
        ("images", "session_id String, batch UInt32, image_id Int64, path String, build_id String, kind UInt8, domain Int32"),
        // symbol: the name resolved on the recording host (has_symbol = 0: none); located: sym_start, sym_size and
        // address hold the function's range and the frame's address in the image's address space (opreport -d).
        ("frames", "session_id String, batch UInt32, frame_id Int64, image_id Int64, offset UInt64, symbol String, has_symbol UInt8, located UInt8, sym_start UInt64, sym_size UInt64, address UInt64"),
        ("stacks", "session_id String, batch UInt32, stack_id Int64, parent_id Int64, frame_id Int64"),
        // Per (event, domain, pid, thread name, leaf image, leaf symbol as named on the recording host; has_symbol = 0:
        // none): the sums of samples, weights, periods and squared periods (period² / weight per record) of the samples
        // whose stack ends there. Version 2.
        ("symbol_totals", "session_id String, batch UInt32, event_id Int64, domain Int32, pid Int32, comm_id Int32, image_id Int64, symbol String, has_symbol UInt8, samples UInt64, weight Int64, period Int64, period_squares Float64"),
        // The same sums per leaf frame (the stack node's own frame) instead of its image and symbol: what a report by
        // instruction reads (opannotate, opreport -d). Added under version 2, read only where it counts every sample
        // of a session (a session pushed before it has none, and is reported from its samples).
        ("frame_totals", "session_id String, batch UInt32, event_id Int64, domain Int32, pid Int32, comm_id Int32, frame_id Int64, samples UInt64, weight Int64, period Int64, period_squares Float64"),
        // wall_ns: Unix time of the sample (ns), start_unix_ns + (time_ns - first_sample_ns) of its session; period: the
        // sum of the periods the record stands for, in the event's unit (the session store's per-sample period).
        ("samples", "host String, session_id String, batch UInt32, time_ns Int64, wall_ns Int64, cpu Int32, domain Int32, pid Int32, tid Int32, event_id Int64, stack_id Int64, mode UInt8, weight Int64, comm_id Int32, period Int64"),
    ];

    /// <summary>The sessions table: one row per completely pushed session.</summary>
    public const string SessionsColumns = "session_id String, host String, start_unix_ns Int64, first_sample_ns Int64, last_sample_ns Int64, samples UInt64, source String, pushed_unix_ns Int64";

    /// <summary>
    /// Creates database <paramref name="database"/> and the tables when missing and checks the stored schema version.
    /// Throws <see cref="ClickHouseException"/> for a server error or a database written by a newer schema.
    /// </summary>
    public static void EnsureCreated(ClickHouseHttp ch, string database, CancellationToken ct = default)
    {
        ch.Execute($"CREATE DATABASE IF NOT EXISTS {database}", ct);
        ch.Execute($"CREATE TABLE IF NOT EXISTS {database}.schema_version (version UInt32, created_unix_ns Int64) ENGINE = TinyLog", ct);
        var versions = ch.Query($"SELECT max(version), count() FROM {database}.schema_version", ct);
        int stored = versions[0][1] == "0" ? 0 : int.Parse(versions[0][0], CultureInfo.InvariantCulture);
        CheckVersion(database, stored, ch);
        foreach (var (table, columns) in Tables)
        {
            string order = table == "samples" ? "host, session_id, event_id, stack_id" : "session_id, batch";
            ch.Execute($"CREATE TABLE IF NOT EXISTS {database}.{table} ({columns}) ENGINE = MergeTree() ORDER BY ({order})", ct);
        }
        ch.Execute($"CREATE TABLE IF NOT EXISTS {database}.sessions ({SessionsColumns}) ENGINE = MergeTree() ORDER BY (host, session_id)", ct);
        // A version 1 database becomes version 2 by the table just created; its sessions keep being read from their samples.
        if (stored < Version)
        {
            var row = new NativeBlock("version UInt32, created_unix_ns Int64", 1).Add(Version).Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
            row.EndRow();
            ch.Insert(database + ".schema_version", row, ct);
        }
    }

    /// <summary>
    /// Checks that <paramref name="database"/> exists and holds a schema this code reads. Throws
    /// <see cref="ClickHouseException"/> when it has no XenProf tables or a newer schema.
    /// </summary>
    public static void CheckReadable(ClickHouseHttp ch, string database, CancellationToken ct = default)
    {
        var exists = ch.Query($"SELECT count() FROM system.tables WHERE database = {ClickHouseHttp.Quote(database)} AND name IN ('schema_version', 'sessions')", ct);
        if (exists[0][0] != "2")
            throw new ClickHouseException($"ClickHouse at {ch.Url}: database {database} holds no pushed sessions (push one with 'xenoprof push --clickhouse URL')");
        CheckVersion(database, int.Parse(ch.Query($"SELECT max(version) FROM {database}.schema_version", ct)[0][0], CultureInfo.InvariantCulture), ch);
    }

    private static void CheckVersion(string database, int version, ClickHouseHttp ch)
    {
        if (version > Version)
            throw new ClickHouseException($"ClickHouse at {ch.Url}: database {database} has schema version {version}; this xenoprof reads version {Version} (upgrade xenoprof)");
    }

    /// <summary>Checks that <paramref name="database"/> is a plain identifier (it is spliced into SQL). Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/>.</summary>
    public static string CheckDatabaseName(string database) =>
        database.Length > 0 && database.Length <= 64 && (char.IsAsciiLetter(database[0]) || database[0] == '_') && database.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? database
            : throw new XenProf.Hypervisor.Binary.XenProfUserException($"--database {database}: expected a name of letters, digits and '_'");
}
