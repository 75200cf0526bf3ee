using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Fleet;

/// <summary>Options of <see cref="FleetPush.Push"/>.</summary>
public sealed record FleetPushOptions
{
    /// <summary>Database to push into (created when missing).</summary>
    public string Database { get; init; } = FleetSchema.DefaultDatabase;

    /// <summary>The host the session is reported under; null: the session's recorded <c>hostname</c>, else this machine's name.</summary>
    public string? HostName { get; init; }

    /// <summary>Rows per INSERT (each batch is written whole or not at all; must stay below ClickHouse's
    /// <c>max_insert_block_size</c>, 1,048,576).</summary>
    public int BatchRows { get; init; } = 200_000;

    /// <summary>Called after each batch is sent: table, batch number, rows.</summary>
    public Action<string, int, int>? BatchSent { get; init; }
}

/// <summary>What a push did.</summary>
/// <param name="SessionId">The pushed session's id (<see cref="FleetPush.SessionIdOf"/>).</param>
/// <param name="Host">The host it is reported under.</param>
/// <param name="AlreadyComplete">The database already held the whole session; nothing was sent.</param>
/// <param name="BatchesSent">Batches inserted by this push.</param>
/// <param name="BatchesSkipped">Batches an earlier, interrupted push had already inserted.</param>
/// <param name="SamplesSent">Sample rows inserted by this push.</param>
/// <param name="Samples">The session's samples.</param>
public sealed record FleetPushResult(string SessionId, string Host, bool AlreadyComplete, int BatchesSent, int BatchesSkipped, long SamplesSent, long Samples);

/// <summary>
/// Copies one session store into ClickHouse (<see cref="FleetSchema"/>): its samples, stacks, frames with the symbol
/// names given by the caller (resolved on the recording host, so that other hosts report without the binaries), images
/// with their build-ids, processes, threads, events, meta and counters. Idempotent and resumable: batches already in the
/// database are skipped, and a session already complete sends nothing.
/// </summary>
public static class FleetPush
{
    /// <summary>
    /// Pushes <paramref name="store"/>. <paramref name="nameFrame"/> gives each frame's symbol (a <see cref="CachedSymbol"/>
    /// with a null name when none); <paramref name="leafTotals"/>, when given, are the store's samples already summed per
    /// leaf image and symbol as <paramref name="nameFrame"/> names them (<see cref="SessionStore.ReadLeafTotals"/>), else
    /// they are summed here from the per-stack totals. Batches are built while the previous one is being inserted (one
    /// INSERT in flight). Throws <see cref="ClickHouseException"/> when the server refuses or cannot be reached; run
    /// again after any failure to complete the push.
    /// </summary>
    public static FleetPushResult Push(ClickHouseHttp ch, SessionStore store, Func<StoredImage, StoredFrame, CachedSymbol> nameFrame,
        FleetPushOptions options, CancellationToken ct = default, IReadOnlyList<LeafTotal>? leafTotals = null)
    {
        if (options.BatchRows is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(options), "BatchRows must be 1..1,000,000");
        var db = FleetSchema.CheckDatabaseName(options.Database);
        var meta = store.ReadMeta();
        string id = SessionIdOf(meta);
        string host = options.HostName ?? (meta.TryGetValue("hostname", out var h) && h.Length > 0 ? h : Environment.MachineName);
        FleetSchema.EnsureCreated(ch, db, ct);

        var done = ch.Query($"SELECT host FROM {db}.sessions WHERE session_id = {ClickHouseHttp.Quote(id)} LIMIT 1", ct);
        long sampleCount = store.CountSamples();
        if (done.Count > 0) return new FleetPushResult(id, done[0][0], true, 0, 0, 0, sampleCount);

        long first = long.MaxValue, last = long.MinValue;
        foreach (var s in store.ReadSamplesUnordered()) { first = Math.Min(first, s.TimeNs); last = Math.Max(last, s.TimeNs); }
        if (first == long.MaxValue) first = last = 0;
        long start = meta.TryGetValue("created_unix_ns", out var c) && long.TryParse(c, CultureInfo.InvariantCulture, out var cv) ? cv : 0;

        int sent = 0, skipped = 0;
        long samplesSent = 0;
        using var pipeline = new InsertPipeline(ch, ct);
        void Table<T>(string table, IEnumerable<T> rows, Action<NativeBlock, T> write, long? count = null)
        {
            var columns = FleetSchema.Tables.First(t => t.Table == table).Columns;
            bool withHost = columns.StartsWith("host ", StringComparison.Ordinal);
            var have = ch.Query($"SELECT DISTINCT batch FROM {db}.{table} WHERE session_id = {ClickHouseHttp.Quote(id)}", ct)
                .Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)).ToHashSet();
            long known = count ?? (rows.TryGetNonEnumeratedCount(out var n) ? n : 1024);
            int hint = (int)Math.Clamp(known, 1, options.BatchRows);
            int batch = 0, inBatch = 0;
            // Blocks in turn: those in flight and the one being filled (Send returns once the oldest one's INSERT is done).
            var blocks = new NativeBlock?[InsertPipeline.Depth + 1];
            NativeBlock? block = null;
            void Flush()
            {
                if (have.Contains(batch)) { skipped++; return; }
                int b = batch, rowsSent = block!.Count;
                pipeline.Send($"{db}.{table}", block, () =>
                {
                    sent++;
                    if (table == "samples") samplesSent += rowsSent;
                    options.BatchSent?.Invoke(table, b, rowsSent);
                });
            }
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                if (!have.Contains(batch))
                {
                    if (block == null)
                    {
                        block = blocks[batch % blocks.Length] ??= new NativeBlock(columns, hint);
                        block.Clear();
                    }
                    if (withHost) block.Add(host);
                    block.Add(id).Add(batch);
                    write(block, row);
                    block.EndRow();
                }
                if (++inBatch == options.BatchRows)
                {
                    Flush();
                    batch++; inBatch = 0; block = null;
                }
            }
            if (inBatch > 0) Flush();
        }

        Table("meta", meta.OrderBy(kv => kv.Key, StringComparer.Ordinal), (t, kv) => t.Add(kv.Key).Add(kv.Value));
        Table("counters", store.ReadCounters().OrderBy(kv => kv.Key, StringComparer.Ordinal), (t, kv) => t.Add(kv.Key).Add(kv.Value));
        Table("events", store.ReadEvents(), (t, e) => t.Add(e.Id.Value).Add(e.Name).Add(e.PerfType).Add(e.PerfConfig).Add(e.Count)
            .Add(e.UnitMask).Add(e.Kernel ? 1 : 0).Add(e.User ? 1 : 0).Add(e.Unit).Add(e.Description));
        Table("domains", store.ReadDomains().OrderBy(kv => kv.Key), (t, kv) => t.Add(kv.Key).Add(kv.Value));
        Table("processes", store.ReadProcesses().Values.OrderBy(p => p.Domain).ThenBy(p => p.Pid),
            (t, p) => t.Add(p.Domain).Add(p.Pid).Add(p.ParentPid).Add(p.Comm));
        Table("threads", store.ReadThreads().OrderBy(kv => kv.Key), (t, kv) => t.Add(kv.Key.Domain).Add(kv.Key.Tid).Add(kv.Value.Pid).Add(kv.Value.Comm));
        Table("comms", store.ReadComms().OrderBy(kv => kv.Key.Value), (t, kv) => t.Add(kv.Key.Value).Add(kv.Value));
        var images = store.ReadImages();
        var frames = store.ReadFrames();
        var named = new Dictionary<FrameId, CachedSymbol>(leafTotals == null ? frames.Count : 0);
        CachedSymbol Name(StoredFrame f)
        {
            if (!named.TryGetValue(f.Id, out var s)) named[f.Id] = s = nameFrame(images[f.Image], f);
            return s;
        }
        Table("images", images.Values.OrderBy(i => i.Id.Value), (t, i) => t.Add(i.Id.Value).Add(i.Path).Add(i.BuildId ?? "").Add((long)i.Kind).Add(i.Domain));
        Table("frames", ById(frames.Values, f => f.Id.Value), (t, f) =>
        {
            var s = leafTotals == null ? Name(f) : nameFrame(images[f.Image], f); // named once either way
            t.Add(f.Id.Value).Add(f.Image.Value).Add(f.Offset).Add(s.Name ?? "").Add(s.Name != null ? 1 : 0)
                .Add(s.Located ? 1 : 0).Add(s.Start).Add(s.Size).Add(s.Address);
        });
        var stacks = store.ReadStacks();
        Table("stacks", ById(stacks.Values, s => s.Id.Value), (t, s) => t.Add(s.Id.Value).Add(s.Parent.Value).Add(s.Frame.Value));
        // The store's per-stack totals summed once more per leaf image and symbol (or the store's own such sums, when
        // the caller has them): a flat report reads these instead of the samples.
        var flat = new Dictionary<(long Event, int Domain, int Pid, int Comm, long Image, string? Symbol), (long Samples, long Weight, long Period, double Squares)>();
        void Sum((long, int, int, int, long, string?) key, long samples, long weight, long period, double squares)
        {
            ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(flat, key, out _);
            sum = (sum.Samples + samples, sum.Weight + weight, sum.Period + period, sum.Squares + squares);
        }
        if (leafTotals != null)
            foreach (var lt in leafTotals)
                Sum((lt.Event.Value, lt.Domain, lt.Pid, lt.Comm.Value, lt.Image.Value, lt.Name), lt.Samples, lt.Weight, lt.Period, lt.PeriodSquares);
        else
            foreach (var st in store.ReadStackTotals())
            {
                var leaf = frames[stacks[st.Stack].Frame];
                Sum((st.Event.Value, st.Domain, st.Pid, st.Comm.Value, leaf.Image.Value, Name(leaf).Name), st.Samples, st.Weight, st.Period, st.PeriodSquares);
            }
        Table("symbol_totals", flat.OrderBy(kv => kv.Key.Event).ThenBy(kv => kv.Key.Domain).ThenBy(kv => kv.Key.Pid).ThenBy(kv => kv.Key.Comm).ThenBy(kv => kv.Key.Image)
            .ThenBy(kv => kv.Key.Symbol, StringComparer.Ordinal), (t, kv) => t.Add(kv.Key.Event).Add(kv.Key.Domain).Add(kv.Key.Pid).Add(kv.Key.Comm)
                .Add(kv.Key.Image).Add(kv.Key.Symbol ?? "").Add(kv.Key.Symbol != null ? 1 : 0).Add(kv.Value.Samples).Add(kv.Value.Weight).Add(kv.Value.Period)
                .Add(kv.Value.Squares));
        Table("samples", store.ReadSamplesUnordered(), (t, s) => t.Add(s.TimeNs).Add(start + (s.TimeNs - first)).Add(s.Cpu)
            .Add(s.Domain).Add(s.Pid).Add(s.Tid).Add(s.Event.Value).Add(s.Stack.Value).Add((long)s.Mode).Add(s.Weight).Add(s.Comm.Value).Add(s.Period), sampleCount);
        pipeline.Wait(); // every batch is in before the sessions row says the session is complete

        var row = new NativeBlock(FleetSchema.SessionsColumns, 1);
        row.Add(id).Add(host).Add(start).Add(first).Add(last).Add(sampleCount)
            .Add(meta.GetValueOrDefault("source", "")).Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
        row.EndRow();
        ch.Insert($"{db}.sessions", row, ct);
        return new FleetPushResult(id, host, false, sent, skipped, samplesSent, sampleCount);
    }

    /// <summary>
    /// A session's id in the fleet database: 16 hex digits of SHA-256 over the store's creation time
    /// (<c>created_unix_ns</c>), recorded host name and source path, so a copy of the session directory pushes as the same
    /// session and a second recording as another.
    /// </summary>
    public static string SessionIdOf(IReadOnlyDictionary<string, string> meta)
    {
        var key = string.Join('\n', meta.GetValueOrDefault("created_unix_ns", ""), meta.GetValueOrDefault("hostname", ""), meta.GetValueOrDefault("source_path", ""));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    /// <summary><paramref name="rows"/> in id order: as they are when already so (the store's id-indexed maps), else sorted.</summary>
    private static IEnumerable<T> ById<T>(IEnumerable<T> rows, Func<T, long> id)
    {
        long previous = long.MinValue;
        foreach (var r in rows)
        {
            long i = id(r);
            if (i < previous) return rows.OrderBy(id);
            previous = i;
        }
        return rows;
    }

    /// <summary>
    /// Sends one INSERT on a worker thread while the caller builds the next block: <see cref="Send"/> first waits for the
    /// previous one (rethrowing its failure) and runs its completion on the caller's thread.
    /// </summary>
    private sealed class InsertPipeline(ClickHouseHttp ch, CancellationToken ct) : IDisposable
    {
        private readonly Queue<(Task Insert, Action Done)> _inFlight = new();

        /// <summary>INSERTs in flight at most: the server works on one while it reads the next, and this side builds a third.</summary>
        public const int Depth = 2;

        public void Send(string table, NativeBlock block, Action done)
        {
            while (_inFlight.Count >= Depth) WaitOldest();
            _inFlight.Enqueue((Task.Run(() => ch.Insert(table, block, ct), ct), done));
        }

        /// <summary>Waits for every INSERT sent, in order; throws the first failure.</summary>
        public void Wait()
        {
            while (_inFlight.Count > 0) WaitOldest();
        }

        private void WaitOldest()
        {
            var (insert, done) = _inFlight.Dequeue();
            insert.GetAwaiter().GetResult();
            done();
        }

        /// <summary>After a failure elsewhere: lets the INSERTs in flight end (their outcome no longer matters) so none outlives the push.</summary>
        public void Dispose()
        {
            foreach (var (insert, _) in _inFlight)
                try { insert.Wait(); } catch (AggregateException) { }
            _inFlight.Clear();
        }
    }
}
