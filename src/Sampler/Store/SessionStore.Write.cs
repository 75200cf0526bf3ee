using Microsoft.Data.Sqlite;

namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>Sets a <c>meta</c> key (session facts such as hostname, kernel release, CPU description).</summary>
    public void SetMeta(string key, string value)
    {
        RequireWritable();
        Exec("INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value=excluded.value", ("$k", key), ("$v", value));
    }

    /// <summary>Adds an event and returns it with its id; an event already stored with the same name, count, unit mask and modes is returned as it is.</summary>
    public StoredEvent AddEvent(StoredEvent e)
    {
        RequireWritable();
        // A restarted session counting the same event appends to it rather than adding a second column.
        foreach (var old in ReadEvents())
            if (old.Name == e.Name && old.Count == e.Count && old.UnitMask == e.UnitMask && old.Kernel == e.Kernel && old.User == e.User)
                return old;
        Exec("INSERT INTO events(name, perf_type, perf_config, count, unit_mask, kernel, user, unit, description) VALUES ($n,$t,$c,$k,$u,$ke,$us,$un,$d)",
            ("$n", e.Name), ("$t", (long)e.PerfType), ("$c", unchecked((long)e.PerfConfig)), ("$k", unchecked((long)e.Count)), ("$u", (long)e.UnitMask),
            ("$ke", e.Kernel ? 1 : 0), ("$us", e.User ? 1 : 0), ("$un", e.Unit), ("$d", e.Description));
        using var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = "SELECT last_insert_rowid()";
        var added = e with { Id = new EventId((long)c.ExecuteScalar()!) };
        _eventPeriods[added.Id.Value] = (long)Math.Clamp(added.Count, 1UL, long.MaxValue);
        return added;
    }

    /// <summary>Adds or updates a domain row (<paramref name="domid"/> as Xen numbers it; 0 = dom0 / native host).</summary>
    public void SetDomain(int domid, string name)
    {
        RequireWritable();
        Exec("INSERT INTO domains(domid, name) VALUES ($d,$n) ON CONFLICT(domid) DO UPDATE SET name=excluded.name", ("$d", domid), ("$n", name));
    }

    /// <summary>Adds or updates a process (thread-group leader) and its name.</summary>
    public void SetProcess(int domain, int pid, int ppid, string comm)
    {
        RequireWritable();
        Exec("INSERT INTO processes(domain, pid, ppid, comm) VALUES ($d,$p,$pp,$c) ON CONFLICT(domain, pid) DO UPDATE SET comm=excluded.comm, ppid=CASE WHEN excluded.ppid<>0 THEN excluded.ppid ELSE processes.ppid END",
            ("$d", domain), ("$p", pid), ("$pp", ppid), ("$c", comm));
    }

    /// <summary>Adds or updates a thread and its name.</summary>
    public void SetThread(int domain, int tid, int pid, string comm)
    {
        RequireWritable();
        Exec("INSERT INTO threads(domain, tid, pid, comm) VALUES ($d,$t,$p,$c) ON CONFLICT(domain, tid) DO UPDATE SET comm=excluded.comm, pid=excluded.pid",
            ("$d", domain), ("$t", tid), ("$p", pid), ("$c", comm));
    }

    /// <summary>Records a mapping of <paramref name="image"/> at [<paramref name="start"/>, <paramref name="limit"/>) with file offset <paramref name="pgoff"/> (bytes).</summary>
    public void AddMapping(int domain, int pid, ImageId image, ulong start, ulong limit, ulong pgoff, long timeNs)
    {
        RequireWritable();
        Exec("INSERT INTO mappings(domain, pid, image_id, start, limit_, pgoff, time_ns) VALUES ($d,$p,$i,$s,$l,$o,$t)",
            ("$d", domain), ("$p", pid), ("$i", image.Value), ("$s", unchecked((long)start)), ("$l", unchecked((long)limit)), ("$o", unchecked((long)pgoff)), ("$t", timeNs));
    }

    /// <summary>
    /// Returns the id of the image (<paramref name="domain"/>, <paramref name="path"/>, <paramref name="buildId"/>), adding
    /// it on first use; <paramref name="domain"/> is the domain whose code it is (0 = dom0 / the native host).
    /// </summary>
    public ImageId InternImage(string path, ImageKind kind, string? buildId, int domain = 0)
    {
        RequireWritable();
        EnsureInterned();
        if (_imageIds.TryGetValue((domain, path, buildId), out var id)) return id;
        id = new ImageId(_nextImage++);
        Exec("INSERT INTO images(id, domain, path, build_id, kind) VALUES ($i,$d,$p,$b,$k)", ("$i", id.Value), ("$d", domain), ("$p", path), ("$b", buildId), ("$k", (int)kind));
        _imageIds[(domain, path, buildId)] = id;
        return id;
    }

    /// <summary>
    /// Sets the build-id of image rows named <paramref name="path"/> (of any domain) that have none yet (build-ids that
    /// arrive after the mappings, as HEADER_BUILD_ID records do at the end of a pipe-mode perf.data). Returns rows changed.
    /// </summary>
    public int SetMissingBuildId(string path, string buildId)
    {
        RequireWritable();
        EnsureInterned();
        using var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = "UPDATE images SET build_id=$b WHERE path=$p AND build_id IS NULL";
        c.Parameters.AddWithValue("$b", buildId);
        c.Parameters.AddWithValue("$p", path);
        int n;
        try { n = c.ExecuteNonQuery(); }
        catch (Exception e) when (NoSpace.Is(e)) { throw Full(e); }
        if (n > 0)
            foreach (var key in _imageIds.Keys.Where(k => k.Path == path && k.BuildId == null).ToList())
                if (_imageIds.Remove(key, out var id)) _imageIds[(key.Domain, path, buildId)] = id;
        return n;
    }

    /// <summary>Returns the id of the frame (<paramref name="image"/>, <paramref name="offset"/>), adding it on first use.</summary>
    public FrameId InternFrame(ImageId image, ulong offset)
    {
        RequireWritable();
        EnsureInterned();
        if (_frameIds.TryGet((ulong)image.Value, offset, out var known)) return new FrameId(known);
        var id = InsertFrame(image, offset);
        _frameIds.Set((ulong)image.Value, offset, id.Value);
        return id;
    }

    private FrameId InsertFrame(ImageId image, ulong offset)
    {
        var id = new FrameId(_nextFrame++);
        _insFrames ??= new BatchInsert(_db, "frames", "id, image_id, offset");
        Write(_insFrames, id.Value, image.Value, unchecked((long)offset));
        return id;
    }

    /// <summary>
    /// Returns the id of a frame the source named itself (<c>frame_names</c>, schema v2): <paramref name="name"/> in
    /// <paramref name="image"/>, at <paramref name="address"/> when the source gives one, else at the image's next
    /// ordinal (one frame per name). Frames of one address with different names (inlined functions perf script
    /// lists on one IP) stay distinct frames. A null <paramref name="name"/> records that the source found no
    /// symbol there (perf script's <c>[unknown]</c>): reports leave the frame unnamed instead of looking its
    /// address up as if it were a file offset.
    /// </summary>
    public FrameId InternNamedFrame(ImageId image, string? name, ulong? address = null)
    {
        RequireWritable();
        EnsureInterned();
        if (name is { Length: 0 }) throw new ArgumentException("a frame name is null (unknown) or not empty", nameof(name));
        if (_namedFrameIds.TryGetValue((image.Value, name, address), out var id)) return id;
        ulong offset;
        if (address is { } a) offset = a;
        else
        {
            offset = _nextOrdinal.GetValueOrDefault(image.Value, 1UL);
            _nextOrdinal[image.Value] = offset + 1;
        }
        id = InsertFrame(image, offset);
        FlushBatches(); // the name's row references the frame's
        _insFrameName ??= Prepare("INSERT INTO frame_names(frame_id, name) VALUES ($f,$n)", "$f", "$n");
        _insFrameName.Parameters[0].Value = id.Value;
        _insFrameName.Parameters[1].Value = (object?)name ?? DBNull.Value;
        Write(_insFrameName);
        _namedFrameIds[(image.Value, name, address)] = id;
        return id;
    }

    /// <summary>Returns the id of the stack node "<paramref name="frame"/> called from <paramref name="parent"/>" (parent 0 = root), adding it on first use.</summary>
    public StackId InternStack(StackId parent, FrameId frame)
    {
        RequireWritable();
        EnsureInterned();
        if (_stackIds.TryGet((ulong)parent.Value, (ulong)frame.Value, out var known)) return new StackId(known);
        return AddStack(parent, frame);
    }

    private StackId AddStack(StackId parent, FrameId frame)
    {
        var id = new StackId(_nextStack++);
        _insFrames ??= new BatchInsert(_db, "frames", "id, image_id, offset");
        _insStacks ??= new BatchInsert(_db, "stacks", "id, parent_id, frame_id", dependsOn: _insFrames);
        Write(_insStacks, id.Value, parent.Value, frame.Value);
        _stackIds.Set((ulong)parent.Value, (ulong)frame.Value, id.Value);
        return id;
    }

    /// <summary>Interns a whole stack given root-first frames and returns the leaf node's id.</summary>
    public StackId InternStack(ReadOnlySpan<FrameId> rootFirst)
    {
        RequireWritable();
        EnsureInterned();
        long s = 0;
        int i = 0;
        for (; i < rootFirst.Length; i++)
        {
            if (!_stackIds.TryGet((ulong)s, (ulong)rootFirst[i].Value, out var known)) break;
            s = known;
        }
        // Past the first new node every node is new (a node made just now has no children yet): no lookups.
        for (; i < rootFirst.Length; i++) s = AddStack(new StackId(s), rootFirst[i]).Value;
        return new StackId(s);
    }

    /// <summary>
    /// Writes one sample: appended to the sample log and summed into its (event, domain, pid, thread name, stack) total.
    /// A <see cref="StoredSample.Period"/> of 0 is stored as the weight times the event's configured period
    /// (<see cref="StoredEvent.Count"/>, at least 1). Throws <see cref="ArgumentOutOfRangeException"/> for a weight below 1
    /// or a negative period.
    /// </summary>
    public void AddSample(in StoredSample s)
    {
        RequireWritable();
        if (s.Weight < 1) throw new ArgumentOutOfRangeException(nameof(s), s.Weight, "a sample's weight is at least 1");
        if (s.Period < 0) throw new ArgumentOutOfRangeException(nameof(s), s.Period, "a sample's period is not negative");
        var stored = s.Period == 0 ? s with { Period = checked(s.Weight * ConfiguredPeriod(s.Event)) } : s;
        ThrowIfFull();
        try { _log!.Append(stored); }
        catch (IOException e) when (NoSpace.Is(e)) { throw Full(e); }
        _pendingLog = true;
        var key = new TotalKey(s.Event.Value, s.Stack.Value, s.Domain, s.Pid, s.Comm.Value);
        ref var t = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pendingTotals, key, out _);
        t.Samples++;
        t.Weight += s.Weight;
        t.Period += stored.Period;
        t.PeriodSquares += StackTotal.SquaresOf(s.Weight, stored.Period);
    }

    /// <summary>The configured period of event <paramref name="ev"/> (its <c>count</c>, at least 1; 1 for an unknown event): what one sample of it stands for when the source gives no period.</summary>
    public long ConfiguredPeriod(EventId ev)
    {
        if (_eventPeriods.TryGetValue(ev.Value, out var p)) return p;
        foreach (var e in ReadEvents()) _eventPeriods[e.Id.Value] = (long)Math.Clamp(e.Count, 1UL, long.MaxValue);
        return _eventPeriods.TryGetValue(ev.Value, out p) ? p : 1;
    }

    private BatchInsert? _insTotals;

    /// <summary>
    /// Writes what <see cref="AddSample"/> buffered into the open transaction: the interned frames and stack nodes still
    /// batched, the totals, and the sample log's new committed length once its bytes are in the file (synced when
    /// <paramref name="durable"/>). Returns false when there were no samples to write.
    /// </summary>
    private bool FlushPending(bool durable)
    {
        FlushBatches();
        if (!_pendingLog) return false;
        _insTotals ??= new BatchInsert(_db, "stack_totals", "event_id, domain, pid, comm_id, stack_id, samples, weight, period, period_sq", [8],
            "ON CONFLICT(event_id, domain, pid, comm_id, stack_id) DO UPDATE SET samples=samples+excluded.samples, weight=weight+excluded.weight, "
            + "period=period+excluded.period, period_sq=period_sq+excluded.period_sq");
        Span<long> row = stackalloc long[9];
        try
        {
            foreach (var (k, v) in _pendingTotals)
            {
                row[0] = k.Event; row[1] = k.Domain; row[2] = k.Pid; row[3] = k.Comm; row[4] = k.Stack; row[5] = v.Samples; row[6] = v.Weight;
                row[7] = v.Period; row[8] = BitConverter.DoubleToInt64Bits(v.PeriodSquares);
                _insTotals.Add(row);
            }
            _insTotals.Flush();
        }
        catch (Exception e) when (NoSpace.Is(e)) { throw Full(e); }
        _pendingTotals.Clear();
        try { _log!.Flush(durable); }
        catch (IOException e) when (NoSpace.Is(e)) { throw Full(e); }
        SetMeta(SampleLogBytesKey, _log.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _pendingLog = false;
        return true;
    }

    /// <summary>Returns the id of thread name <paramref name="comm"/> (<c>comms</c> table), adding it on first use.</summary>
    public CommId InternComm(string comm)
    {
        RequireWritable();
        EnsureInterned();
        if (_commIds.TryGetValue(comm, out var id)) return id;
        id = new CommId(_commIds.Count + 1);
        Exec("INSERT INTO comms(id, name) VALUES ($i,$n)", ("$i", id.Value), ("$n", comm));
        _commIds[comm] = id;
        return id;
    }

    /// <summary>Adds <paramref name="delta"/> to a counter (see <see cref="CounterNames"/>).</summary>
    public void AddCounter(string name, long delta)
    {
        RequireWritable();
        if (delta == 0) return;
        Exec("INSERT INTO counters(name, value) VALUES ($n,$v) ON CONFLICT(name) DO UPDATE SET value=value+excluded.value", ("$n", name), ("$v", delta));
    }

    /// <summary><c>meta</c> key: Unix time (ns) of the last <see cref="ClearSamples"/>, absent when the samples were never cleared.</summary>
    public const string ResetKey = "samples_reset_unix_ns";

    /// <summary>Deletes all samples, their totals and the counters (opcontrol <c>--reset</c> on a running daemon); events, processes, stacks and frames stay; <see cref="ResetKey"/> is set.</summary>
    public void ClearSamples()
    {
        RequireWritable();
        _pendingTotals.Clear();
        _pendingLog = false;
        Exec("DELETE FROM stack_totals; DELETE FROM counters; DELETE FROM meta WHERE key IN ('" + StoreSchema.LegacyLogBytesKey + "', '" + LeafTotalsKey + "');");
        SetMeta(SampleLogBytesKey, "0");
        // The samples after a reset are another session for the fleet database (FleetPush.SessionIdOf).
        SetMeta(ResetKey, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Commit(); // readers see an empty log before its bytes go
        _log!.Clear();
    }

    private SqliteCommand Prepare(string sql, params string[] names)
    {
        var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        foreach (var n in names) c.Parameters.Add(new SqliteParameter(n, 0L));
        c.Prepare();
        return c;
    }
}
