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
    /// Pushes what <paramref name="store"/> holds and the database does not yet: the whole session on a first push, the
    /// rows added since on a later one (a session still being recorded, pushed again after each dump, is streamed), the
    /// rest after an interrupted push. <paramref name="nameFrame"/> gives each frame's symbol (a <see cref="CachedSymbol"/>
    /// with a null name when none); it is called for every frame pushed and again for each leaf frame of a batch of
    /// samples, so it should remember its answers. Rows go in numbered batches, each one INSERT built while the two before it are being
    /// inserted; a batch is numbered by its first row's position (samples: 0-based in storage order; tables with ids:
    /// the first id), so the batches a table holds say which rows it has: a batch numbered N of C rows holds the first C
    /// rows from N on. Tables keyed otherwise (meta, domains, processes, threads) get the keys they lack, counters the
    /// difference between the store's values and the sums already pushed. Each batch of samples is followed by its sums
    /// per leaf symbol and per leaf frame (<c>symbol_totals</c>, <c>frame_totals</c>, same number); the <c>sessions</c> row written last makes what was pushed
    /// reportable. Throws <see cref="ClickHouseException"/> when the server refuses or cannot be reached; run again after
    /// any failure to complete the push.
    /// </summary>
    public static FleetPushResult Push(ClickHouseHttp ch, SessionStore store, Func<StoredImage, StoredFrame, CachedSymbol> nameFrame,
        FleetPushOptions options, CancellationToken ct = default, FleetPushCache? cache = null)
    {
        if (options.BatchRows is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(options), "BatchRows must be 1..1,000,000");
        var db = FleetSchema.CheckDatabaseName(options.Database);
        // The committed samples first: every row they refer to is committed with them, so the tables read after hold it.
        long sampleCount = store.CountSamples();
        var meta = store.ReadMeta();
        string id = SessionIdOf(meta);
        string q = ClickHouseHttp.Quote(id);
        cache ??= new FleetPushCache();
        cache.Use(id);
        FleetSchema.EnsureCreated(ch, db, ct);

        // What earlier pushes of this session made reportable: its host, samples, clock anchor and last sample time.
        var prior = ch.Query($"SELECT count(), any(host), max(samples), min(first_sample_ns), max(last_sample_ns) FROM {db}.sessions WHERE session_id = {q}", ct)[0];
        bool reported = prior[0] != "0";
        string host = reported ? prior[1] : options.HostName ?? (meta.TryGetValue("hostname", out var h) && h.Length > 0 ? h : Environment.MachineName);
        var counters = store.ReadCounters();
        var pushedCounters = ch.Query($"SELECT name, sum(value), max(batch) FROM {db}.counters WHERE session_id = {q} GROUP BY name", ct)
            .ToDictionary(r => r[0], r => (Sum: Long(r[1]), Batch: Long(r[2])));
        if (reported && Long(prior[2]) == sampleCount && counters.All(kv => pushedCounters.GetValueOrDefault(kv.Key).Sum == kv.Value))
            return new FleetPushResult(id, host, true, 0, 0, 0, sampleCount);

        // Sample times become wall-clock times from the store's creation, anchored at the session's earliest sample
        // (kept from the first push that made the session reportable, so that every batch uses the same anchor).
        long start = meta.TryGetValue("created_unix_ns", out var c) && long.TryParse(c, CultureInfo.InvariantCulture, out var cv) ? cv : 0;
        long first = reported ? Long(prior[3]) : long.MaxValue, last = reported ? Long(prior[4]) : long.MinValue;
        if (!reported)
            foreach (var s in store.ReadSamplesUnordered()) first = Math.Min(first, s.TimeNs);
        if (first == long.MaxValue) first = 0;

        int sent = 0, skipped = 0;
        long samplesSent = 0;
        using var pipeline = new InsertPipeline(ch, ct);
        Batcher Batches(string table) => new(table, FleetSchema.Tables.First(t => t.Table == table).Columns, db, id, host, options, pipeline, n =>
        {
            sent++;
            if (table == "samples") samplesSent += n;
        });

        // Tables whose rows have ids that only grow: the rows after those the batches already there hold.
        List<(long Start, long Rows)> Coverage(string table) =>
            ch.Query($"SELECT batch, count() FROM {db}.{table} WHERE session_id = {q} GROUP BY batch ORDER BY batch", ct)
                .Select(r => (Long(r[0]), Long(r[1]))).ToList();
        // rowsFrom(P): the rows from position or id P on, in id order; P ends the batches there from origin (the first
        // position or id) on without a gap, so the rows before it are there and are not read.
        void ById<T>(string table, long origin, Func<long, IEnumerable<T>> rowsFrom, Func<T, long> idOf, Action<NativeBlock, T> write,
            Action<long, T>? added = null, Action<long, int>? flushed = null)
        {
            var all = Coverage(table);
            skipped += all.Count;
            long readFrom = origin;
            foreach (var b in all) if (b.Start == readFrom) readFrom += b.Rows; else break;
            var have = all.Where(b => b.Start >= readFrom).ToList();
            var rows = rowsFrom(readFrom);
            var batches = Batches(table);
            int next = 0;
            long covered = 0;
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                long at = idOf(row);
                if (covered == 0 && next < have.Count && at >= have[next].Start)
                {
                    Flush();
                    covered = have[next++].Rows;
                }
                if (covered > 0) { covered--; continue; }
                if (batches.Count == options.BatchRows) Flush();
                write(batches.Row(at), row);
                batches.EndRow();
                added?.Invoke(batches.Number, row);
            }
            Flush();
            void Flush()
            {
                if (batches.Count == 0) return;
                long number = batches.Number;
                int rowsIn = batches.Count;
                batches.Flush();
                flushed?.Invoke(number, rowsIn);
            }
        }
        // Tables keyed otherwise: the rows whose keys the table lacks, numbered after its last batch.
        void ByKey<T>(string table, string keyColumns, IEnumerable<T> rows, Func<T, string> keyOf, Action<NativeBlock, T> write)
        {
            var there = ch.Query($"SELECT batch, {keyColumns} FROM {db}.{table} WHERE session_id = {q}", ct);
            var keys = there.Select(r => string.Join('\t', r[1..])).ToHashSet(StringComparer.Ordinal);
            long number = there.Count == 0 ? 0 : there.Max(r => Long(r[0])) + 1;
            var batches = Batches(table);
            foreach (var row in rows)
            {
                if (keys.Contains(keyOf(row))) continue;
                if (batches.Count == options.BatchRows) { batches.Flush(); number++; }
                write(batches.Row(number), row);
                batches.EndRow();
            }
            batches.Flush();
        }
        static string Key(params object[] parts) => string.Join('\t', parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)));

        ByKey("meta", "key", meta.OrderBy(kv => kv.Key, StringComparer.Ordinal), kv => kv.Key, (t, kv) => t.Add(kv.Key).Add(kv.Value));
        ById("events", 1, from => store.ReadEvents().Where(e => e.Id.Value >= from).OrderBy(e => e.Id.Value), e => e.Id.Value, (t, e) => t.Add(e.Id.Value).Add(e.Name).Add(e.PerfType).Add(e.PerfConfig).Add(e.Count)
            .Add(e.UnitMask).Add(e.Kernel ? 1 : 0).Add(e.User ? 1 : 0).Add(e.Unit).Add(e.Description));
        ByKey("domains", "domain", store.ReadDomains().OrderBy(kv => kv.Key), kv => Key(kv.Key), (t, kv) => t.Add(kv.Key).Add(kv.Value));
        ByKey("processes", "domain, pid", store.ReadProcesses().Values.OrderBy(p => p.Domain).ThenBy(p => p.Pid), p => Key(p.Domain, p.Pid),
            (t, p) => t.Add(p.Domain).Add(p.Pid).Add(p.ParentPid).Add(p.Comm));
        ByKey("threads", "domain, tid", store.ReadThreads().OrderBy(kv => kv.Key), kv => Key(kv.Key.Domain, kv.Key.Tid),
            (t, kv) => t.Add(kv.Key.Domain).Add(kv.Key.Tid).Add(kv.Value.Pid).Add(kv.Value.Comm));
        ById("comms", 1, from => store.ReadComms().Where(kv => kv.Key.Value >= from).OrderBy(kv => kv.Key.Value), kv => kv.Key.Value, (t, kv) => t.Add(kv.Key.Value).Add(kv.Value));
        var images = store.ReadImages();
        CachedSymbol Name(StoredFrame f) => nameFrame(images[f.Image], f);
        ById("images", 1, from => images.Values.Where(i => i.Id.Value >= from).OrderBy(i => i.Id.Value), i => i.Id.Value, (t, i) => t.Add(i.Id.Value).Add(i.Path).Add(i.BuildId ?? "").Add((long)i.Kind).Add(i.Domain));
        // Frames and stack nodes: those after the ones the cache holds are read once (for the push and for the sums).
        ById("frames", 1, from => cache.FramesFrom(store, from), f => f.Id.Value, (t, f) =>
        {
            var s = Name(f);
            t.Add(f.Id.Value).Add(f.Image.Value).Add(f.Offset).Add(s.Name ?? "").Add(s.Name != null ? 1 : 0)
                .Add(s.Located ? 1 : 0).Add(s.Start).Add(s.Size).Add(s.Address);
        });
        ById("stacks", 1, from => cache.StacksFrom(store, from), s => s.Id.Value, (t, s) => t.Add(s.Id.Value).Add(s.Parent.Value).Add(s.Frame.Value));
        // Every row a sample names is in before the sample: a report of what is there never meets an unknown stack.
        pipeline.Wait();

        // Each batch of samples summed per (event, domain, pid, thread name, leaf image, leaf symbol), which a flat report
        // reads, and per leaf frame, which a report by instruction reads (opannotate, opreport -d), where the sums count
        // every pushed sample, instead of the samples.
        var symbolTotals = Batches("symbol_totals");
        var frameTotals = Batches("frame_totals");
        var perStack = new Dictionary<(long Event, int Domain, int Pid, int Comm, long Stack), (long Samples, long Weight, long Period, double Squares)>();
        void Count(in StoredSample s)
        {
            ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(perStack, (s.Event.Value, s.Domain, s.Pid, s.Comm.Value, s.Stack.Value), out _);
            sum = (sum.Samples + 1, sum.Weight + s.Weight, sum.Period + s.Period, sum.Squares + (double)s.Period * s.Period / Math.Max(s.Weight, 1));
        }
        void SendTotals(long number, bool bySymbol = true, bool byFrame = true)
        {
            var symbols = new Dictionary<(long Event, int Domain, int Pid, int Comm, long Image, string? Symbol), (long Samples, long Weight, long Period, double Squares)>();
            var leaves = new Dictionary<(long Event, int Domain, int Pid, int Comm, long Frame), (long Samples, long Weight, long Period, double Squares)>();
            foreach (var (k, v) in perStack)
            {
                if (!cache.TryLeaf(k.Stack, out var leaf)) continue; // not summed: the report reads the samples
                if (bySymbol)
                {
                    ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(symbols, (k.Event, k.Domain, k.Pid, k.Comm, leaf.Image.Value, Name(leaf).Name), out _);
                    sum = (sum.Samples + v.Samples, sum.Weight + v.Weight, sum.Period + v.Period, sum.Squares + v.Squares);
                }
                if (byFrame)
                {
                    ref var sum = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(leaves, (k.Event, k.Domain, k.Pid, k.Comm, leaf.Id.Value), out _);
                    sum = (sum.Samples + v.Samples, sum.Weight + v.Weight, sum.Period + v.Period, sum.Squares + v.Squares);
                }
            }
            perStack.Clear();
            foreach (var (k, v) in symbols.OrderBy(kv => kv.Key.Event).ThenBy(kv => kv.Key.Domain).ThenBy(kv => kv.Key.Pid).ThenBy(kv => kv.Key.Comm)
                         .ThenBy(kv => kv.Key.Image).ThenBy(kv => kv.Key.Symbol, StringComparer.Ordinal))
            {
                symbolTotals.Row(number).Add(k.Event).Add(k.Domain).Add(k.Pid).Add(k.Comm).Add(k.Image).Add(k.Symbol ?? "").Add(k.Symbol != null ? 1 : 0)
                    .Add(v.Samples).Add(v.Weight).Add(v.Period).Add(v.Squares);
                symbolTotals.EndRow();
            }
            symbolTotals.Flush();
            foreach (var (k, v) in leaves.OrderBy(kv => kv.Key))
            {
                frameTotals.Row(number).Add(k.Event).Add(k.Domain).Add(k.Pid).Add(k.Comm).Add(k.Frame).Add(v.Samples).Add(v.Weight).Add(v.Period).Add(v.Squares);
                frameTotals.EndRow();
            }
            frameTotals.Flush();
        }
        // Batches of samples an earlier push sent without their sums (it stopped in between): summed again from the log.
        var samplesThere = Coverage("samples");
        HashSet<long> Summed(string table) => ch.Query($"SELECT DISTINCT batch FROM {db}.{table} WHERE session_id = {q}", ct).Select(r => Long(r[0])).ToHashSet();
        var bySymbolThere = Summed("symbol_totals");
        var byFrameThere = Summed("frame_totals");
        foreach (var (number, rows) in samplesThere.Where(b => !bySymbolThere.Contains(b.Start) || !byFrameThere.Contains(b.Start)))
        {
            foreach (var s in store.ReadSamplesFrom(number).Take((int)Math.Min(rows, int.MaxValue))) Count(s);
            SendTotals(number, !bySymbolThere.Contains(number), !byFrameThere.Contains(number));
        }
        // The samples by position (0: the first in storage order), up to those committed when the push began.
        IEnumerable<(long At, StoredSample Sample)> SamplesFrom(long from)
        {
            long position = from;
            foreach (var s in store.ReadSamplesFrom(from))
            {
                if (position >= sampleCount) yield break;
                yield return (position++, s);
            }
        }
        ById("samples", 0, SamplesFrom, r => r.At, (t, r) =>
        {
            var s = r.Sample;
            t.Add(s.TimeNs).Add(start + (s.TimeNs - first)).Add(s.Cpu).Add(s.Domain).Add(s.Pid).Add(s.Tid).Add(s.Event.Value).Add(s.Stack.Value)
                .Add((long)s.Mode).Add(s.Weight).Add(s.Comm.Value).Add(s.Period);
        }, (_, r) => { Count(r.Sample); last = Math.Max(last, r.Sample.TimeNs); }, (number, _) => SendTotals(number));

        // Counters: what they grew by since the last push.
        long counterBatch = pushedCounters.Count == 0 ? 0 : pushedCounters.Values.Max(v => v.Batch) + 1;
        var grown = Batches("counters");
        foreach (var (name, value) in counters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            long delta = value - (pushedCounters.TryGetValue(name, out var p) ? p.Sum : 0);
            if (delta == 0) continue;
            grown.Row(counterBatch).Add(name).Add(delta);
            grown.EndRow();
        }
        grown.Flush();
        pipeline.Wait(); // every batch is in before the sessions row makes them reportable

        var row = new NativeBlock(FleetSchema.SessionsColumns, 1);
        row.Add(id).Add(host).Add(start).Add(first).Add(last == long.MinValue ? first : last).Add(sampleCount)
            .Add(meta.GetValueOrDefault("source", "")).Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000);
        row.EndRow();
        ch.Insert($"{db}.sessions", row, ct);
        return new FleetPushResult(id, host, false, sent, skipped, samplesSent, sampleCount);
    }

    private static long Long(string s) => long.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>
    /// One table's new batches: rows are added to a block (one of three used in turn: two in flight, one being filled)
    /// whose rows start with the host (samples), the session id and the batch number; <see cref="Flush"/> sends it.
    /// </summary>
    private sealed class Batcher(string table, string columns, string db, string session, string host, FleetPushOptions options, InsertPipeline pipeline, Action<int> done)
    {
        private readonly NativeBlock?[] _blocks = new NativeBlock?[InsertPipeline.Depth + 1];
        private readonly bool _withHost = columns.StartsWith("host ", StringComparison.Ordinal);
        private NativeBlock? _block;
        private int _turn;

        /// <summary>Rows in the batch being filled.</summary>
        public int Count => _block?.Count ?? 0;

        /// <summary>The number of the batch being filled.</summary>
        public long Number { get; private set; }

        /// <summary>Starts a row (of a new batch numbered <paramref name="number"/> when none is being filled); the caller adds the table's own columns, then <see cref="EndRow"/>.</summary>
        public NativeBlock Row(long number)
        {
            if (_block == null)
            {
                _block = _blocks[_turn++ % _blocks.Length] ??= new NativeBlock(columns, (int)Math.Min(options.BatchRows, 65_536));
                _block.Clear();
                Number = number;
            }
            if (_withHost) _block.Add(host);
            return _block.Add(session).Add(checked((uint)Number));
        }

        /// <summary>Ends the row started by <see cref="Row"/>.</summary>
        public void EndRow() => _block!.EndRow();

        /// <summary>Sends the batch being filled, if any.</summary>
        public void Flush()
        {
            if (_block == null) return;
            var block = _block;
            long number = Number;
            int rows = block.Count;
            _block = null;
            pipeline.Send($"{db}.{table}", block, () =>
            {
                done(rows);
                options.BatchSent?.Invoke(table, (int)number, rows);
            });
        }
    }

    /// <summary>
    /// A session's id in the fleet database: 16 hex digits of SHA-256 over the store's creation time
    /// (<c>created_unix_ns</c>), recorded host name and source path, so a copy of the session directory pushes as the same
    /// session and a second recording as another; the samples after an opcontrol <c>--reset</c> of a running daemon
    /// (<see cref="SessionStore.ResetKey"/>) are another session too.
    /// </summary>
    public static string SessionIdOf(IReadOnlyDictionary<string, string> meta)
    {
        var key = string.Join('\n', meta.GetValueOrDefault("created_unix_ns", ""), meta.GetValueOrDefault("hostname", ""), meta.GetValueOrDefault("source_path", ""));
        if (meta.TryGetValue(SessionStore.ResetKey, out var reset)) key += "\nreset " + reset;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
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
