using Microsoft.Data.Sqlite;

namespace XenProf.Sampler.Store;

/// <summary>
/// The session store: one SQLite database (<see cref="StoreSchema"/>) opened for writing by the daemon or an
/// importer, or for reading by reporters. Writes go into an open transaction that <see cref="Commit"/> makes
/// durable (WAL, <c>synchronous=NORMAL</c>): after a crash the store holds everything up to the last commit.
/// Images, frames and stacks are interned in memory; a sample costs one 48-byte append to the sample log
/// (<see cref="SampleLog"/>) and an in-memory sum, written to <c>stack_totals</c> at the next commit.
/// Errors: <see cref="StoreException"/> for a file that is not a session store or has another schema version;
/// <see cref="SqliteException"/> for I/O failures.
/// </summary>
public sealed partial class SessionStore : IDisposable
{
    private readonly SqliteConnection _db;
    private SqliteTransaction? _tx;
    private readonly Dictionary<(int Domain, string Path, string? BuildId), ImageId> _imageIds = new();
    private readonly IdTable _frameIds = new();   // (image, offset) → frame id
    private readonly IdTable _stackIds = new();   // (parent, frame) → stack id
    private readonly Dictionary<(long, string?, ulong?), FrameId> _namedFrameIds = new();
    private readonly Dictionary<long, ulong> _nextOrdinal = new();
    private long _nextImage = 1, _nextFrame = 1, _nextStack = 1;
    // False on a store opened for appending until something is interned: a writer that only adds a symbol cache or
    // meta rows (the import's symbol pass) never reads the stacks and frames back into memory.
    private bool _interned = true;
    private SqliteCommand? _insFrameName;
    // New frames and stack nodes wait in batches until FlushBatches (before a commit or a read).
    private BatchInsert? _insFrames, _insStacks;
    private SampleLog? _log;
    private readonly Dictionary<TotalKey, PendingTotal> _pendingTotals = new();
    private readonly Dictionary<long, long> _eventPeriods = new();

    private struct PendingTotal
    {
        public long Samples, Weight, Period;
        public double PeriodSquares;
    }
    private bool _pendingLog;

    private readonly record struct TotalKey(long Event, long Stack, int Domain, int Pid, int Comm)
    {
        // Summed once per sample: a cheap mix instead of the record's field-by-field default.
        public override int GetHashCode()
        {
            ulong h = (ulong)Stack * 0x9E3779B97F4A7C15UL ^ (ulong)Event << 48 ^ (ulong)(uint)Pid << 16 ^ (ulong)(uint)Comm << 40 ^ (uint)Domain;
            return (int)(h ^ h >> 29);
        }

        public bool Equals(TotalKey o) => Stack == o.Stack && Pid == o.Pid && Comm == o.Comm && Event == o.Event && Domain == o.Domain;
    }
    private readonly Dictionary<string, CommId> _commIds = new(StringComparer.Ordinal);

    private SessionStore(SqliteConnection db, string path, bool writable)
    {
        _db = db;
        Path = path;
        IsWritable = writable;
    }

    /// <summary>Path of the database file.</summary>
    public string Path { get; }

    /// <summary>True when opened with <see cref="Create"/> or <see cref="OpenForAppend"/>.</summary>
    public bool IsWritable { get; }

    /// <summary>
    /// When true (the default), <see cref="Commit"/> syncs the sample log to disk before committing, so a commit
    /// survives a crash of the machine, not only of the process. Importers, whose store is a cache of a file,
    /// turn it off.
    /// </summary>
    public bool SyncOnCommit { get; set; } = true;

    /// <summary>Creates a new, empty store at <paramref name="path"/> (an existing file is replaced) and opens it for writing.</summary>
    public static SessionStore Create(string path)
    {
        foreach (var f in new[] { path, path + "-wal", path + "-shm", SampleLog.PathFor(path) })
            if (File.Exists(f)) File.Delete(f);
        var store = OpenConnection(path, writable: true);
        store.Exec(StoreSchema.CreateSql);
        store.Exec("PRAGMA synchronous=NORMAL;");
        store._log = SampleLog.OpenForAppend(path, 0);
        store.BeginWrite();
        store.SetMeta("schema_version", StoreSchema.Version.ToString());
        store.SetMeta(SampleLogBytesKey, "0");
        store.SetMeta("created_unix_ns", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000).ToString());
        store.Exec("INSERT OR IGNORE INTO domains(domid, name) VALUES (0, 'dom0')");
        store.Commit();
        return store;
    }

    /// <summary>
    /// Opens an existing store for appending (a daemon restarted on the same session). Interned ids are reloaded when
    /// first needed. A version 4 store is migrated in place first (<see cref="StoreSchema"/>), its samples kept.
    /// </summary>
    public static SessionStore OpenForAppend(string path)
    {
        var store = OpenConnection(path, writable: true);
        if (store.CheckVersion() == StoreSchema.MigratableVersion) store.MigrateFrom4();
        store.Exec("PRAGMA synchronous=NORMAL;");
        store._interned = false;
        store._log = SampleLog.OpenForAppend(path, store.CommittedLogBytes());
        store.BeginWrite();
        return store;
    }

    /// <summary>
    /// Opens the store at <paramref name="path"/> for appending when one exists (a restarted daemon keeps every
    /// sample until <c>--reset</c>, as oprofile's opcontrol does), else creates it. <paramref name="existingSamples"/>
    /// is the number of samples already stored (0 for a new store).
    /// Throws <see cref="StoreException"/> when the file is not a store or has another schema version: such a
    /// store is refused, never overwritten.
    /// </summary>
    public static SessionStore OpenOrCreate(string path, out long existingSamples)
    {
        if (!File.Exists(path)) { existingSamples = 0; return Create(path); }
        var store = OpenForAppend(path);
        existingSamples = store.CountSamples();
        return store;
    }

    /// <summary>
    /// Writes a consistent copy of everything committed so far to <paramref name="path"/> (a new store plus its
    /// sample log), as <c>opcontrol --save=NAME</c> archives a session. Pending writes are committed first.
    /// Throws <see cref="StoreException"/> when <paramref name="path"/> already exists.
    /// </summary>
    public void SaveTo(string path)
    {
        RequireWritable();
        if (File.Exists(path)) throw new StoreException($"{path}: a saved session of that name already exists; choose another name");
        Commit();
        long bytes = CommittedLogBytes();
        // VACUUM cannot run inside a transaction: end the open one, copy, and start a new one.
        _tx!.Commit(); _tx.Dispose(); _tx = null;
        try
        {
            using (var c = _db.CreateCommand()) { c.CommandText = "VACUUM INTO $p"; c.Parameters.AddWithValue("$p", path); c.ExecuteNonQuery(); }
            _log!.Flush();
            SampleLog.CopyPrefix(SampleLog.PathFor(Path), SampleLog.PathFor(path), bytes);
        }
        catch (Exception e) when (NoSpace.Is(e))
        {
            // The copy is what failed, not this store: drop the half-written copy and say so.
            foreach (var f in new[] { path, SampleLog.PathFor(path) }) try { File.Delete(f); } catch (IOException) { }
            throw NoSpace.Error(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, System.IO.Path.GetFileName(path), e);
        }
        finally { BeginWrite(); }
    }

    /// <summary>
    /// Opens an existing store read-only. A version 4 store is first migrated in place (which needs write access to it
    /// once). Throws <see cref="StoreException"/> when the file is missing, not a store, of another version, or a
    /// version 4 store that cannot be written.
    /// </summary>
    public static SessionStore OpenRead(string path)
    {
        if (!File.Exists(path))
            throw new StoreException($"{path}: no session store here (no samples were recorded into this session directory)");
        var store = OpenConnection(path, writable: false);
        if (store.CheckVersion() != StoreSchema.MigratableVersion) return store;
        store.Dispose();
        try
        {
            using var writer = OpenConnection(path, writable: true);
            if (writer.CheckVersion() == StoreSchema.MigratableVersion) writer.MigrateFrom4();
        }
        catch (SqliteException e)
        {
            throw new StoreException($"{path}: session store schema version {StoreSchema.MigratableVersion} must be upgraded in place to version {StoreSchema.Version} once, "
                                     + $"which needs write access to it ({e.Message}); open it once as its owner");
        }
        store = OpenConnection(path, writable: false);
        store.CheckVersion();
        return store;
    }

    /// <summary>Migrates a version 4 store to version 5 in one transaction (see <see cref="StoreSchema.MigrateFrom4Sql"/>); the sample log is not touched.</summary>
    private void MigrateFrom4()
    {
        using var tx = _db.BeginTransaction();
        using (var c = _db.CreateCommand()) { c.Transaction = tx; c.CommandText = StoreSchema.MigrateFrom4Sql; c.ExecuteNonQuery(); }
        tx.Commit();
    }

    /// <summary>
    /// Turns SQLite's memory statistics off for the process (SQLITE_CONFIG_MEMSTATUS = 9, 0): they take a global mutex
    /// around every allocation, and a warm <c>opreport -l</c> over the stacks spent a few percent of its CPU there. Call it
    /// once, first thing in a program's entry point, before any SQLite connection exists and while one thread runs
    /// (sqlite3_config must precede sqlite3_initialize, and no other SQLite call may run meanwhile;
    /// https://sqlite.org/c3ref/config.html). Returns SQLite's result code (0 when set). SQLite's threading mode stays
    /// serialized: in multi-thread mode (SQLITE_CONFIG_MULTITHREAD), a statement handle the .NET finalizer releases
    /// on its own thread while the owner still steps another statement of that connection crashes the process (seen
    /// here: SIGSEGV in 2 of 3 cold imports under perf record).
    /// </summary>
    public static int ConfigureSqlite()
    {
        SQLitePCL.Batteries_V2.Init();
        SQLitePCL.raw.sqlite3_shutdown();
        int rc = SQLitePCL.raw.sqlite3_config(9, 0);
        SQLitePCL.raw.sqlite3_initialize();
        return rc;
    }

    private static SessionStore OpenConnection(string path, bool writable)
    {
        var csb = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = writable ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        var db = new SqliteConnection(csb.ToString());
        db.Open();
        using (var c = db.CreateCommand()) { c.CommandText = "PRAGMA busy_timeout=5000;"; c.ExecuteNonQuery(); }
        return new SessionStore(db, path, writable);
    }

    /// <summary>Returns the store's schema version: <see cref="StoreSchema.Version"/> or <see cref="StoreSchema.MigratableVersion"/>; throws <see cref="StoreException"/> for any other.</summary>
    private int CheckVersion()
    {
        string? v;
        try { v = ScalarString("SELECT value FROM meta WHERE key='schema_version'"); }
        catch (SqliteException e) { throw new StoreException($"{Path}: not a XenProf session store ({e.Message})"); }
        if (v == StoreSchema.Version.ToString()) return StoreSchema.Version;
        if (v == StoreSchema.MigratableVersion.ToString()) return StoreSchema.MigratableVersion;
        throw new StoreException($"{Path}: session store schema version {v ?? "(none)"}, this xenoprof reads version {StoreSchema.Version} (and migrates {StoreSchema.MigratableVersion}); re-record or re-import");
    }

    /// <summary>Reads the interned images, frames, names, comms and stacks back, once, before the first intern of a store opened for appending.</summary>
    private void EnsureInterned()
    {
        if (_interned) return;
        _interned = true;
        LoadInterned();
    }

    private void LoadInterned()
    {
        using (var r = Query("SELECT id, domain, path, build_id FROM images"))
            while (r.Read()) { var id = r.GetInt64(0); _imageIds[(r.GetInt32(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3))] = new ImageId(id); _nextImage = Math.Max(_nextImage, id + 1); }
        using (var r = Query("SELECT id, image_id, offset FROM frames"))
            while (r.Read()) { var id = r.GetInt64(0); _frameIds.Set((ulong)r.GetInt64(1), (ulong)r.GetInt64(2), id); _nextFrame = Math.Max(_nextFrame, id + 1); }
        using (var r = Query("SELECT f.id, f.image_id, f.offset, n.name, i.kind FROM frame_names n JOIN frames f ON f.id = n.frame_id JOIN images i ON i.id = f.image_id"))
            while (r.Read())
            {
                // Which frames were given an address cannot be told from the row; ordinals are re-keyed without one.
                long image = r.GetInt64(1);
                var offset = unchecked((ulong)r.GetInt64(2));
                var name = r.IsDBNull(3) ? null : r.GetString(3);
                _namedFrameIds[(image, name, offset)] = new FrameId(r.GetInt64(0));
                _namedFrameIds.TryAdd((image, name, null), new FrameId(r.GetInt64(0)));
                _nextOrdinal[image] = Math.Max(_nextOrdinal.GetValueOrDefault(image, 1UL), offset + 1);
            }
        using (var r = Query("SELECT id, name FROM comms"))
            while (r.Read()) _commIds[r.GetString(1)] = new CommId(r.GetInt32(0));
        using (var r = Query("SELECT id, parent_id, frame_id FROM stacks"))
            while (r.Read()) { var id = r.GetInt64(0); _stackIds.Set((ulong)r.GetInt64(1), (ulong)r.GetInt64(2), id); _nextStack = Math.Max(_nextStack, id + 1); }
    }

    /// <summary>Commits everything written since the last commit and starts a new transaction.</summary>
    public void Commit()
    {
        RequireWritable();
        ThrowIfFull();
        try
        {
            if (FlushPending(SyncOnCommit)) CommitPause.BeforeCommit();
            _tx?.Commit();
        }
        catch (Exception e) when (NoSpace.Is(e)) { throw Full(e); }
        _tx?.Dispose();
        _tx = null;
        BeginWrite();
    }

    private void BeginWrite()
    {
        _tx = _db.BeginTransaction();
        if (_insFrameName != null) _insFrameName.Transaction = _tx;
    }

    private void RequireWritable()
    {
        if (!IsWritable) throw new InvalidOperationException("session store opened read-only");
    }

    /// <summary>
    /// The first full-file-system error of this writer (<see cref="NoSpace"/>). From then on every write throws it again:
    /// the open transaction cannot be trusted, so nothing more is committed; the store keeps its last commit.
    /// </summary>
    private StoreException? _full;

    private StoreException Full(Exception e) =>
        _full ??= NoSpace.Error(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!,
            System.IO.Path.GetFileName(e is IOException ? SampleLog.PathFor(Path) : Path), e);

    private void ThrowIfFull()
    {
        if (_full != null) throw _full;
    }

    /// <summary>Runs a write statement; a full file system becomes <see cref="Full"/>'s error.</summary>
    private void Write(SqliteCommand c)
    {
        try { c.ExecuteNonQuery(); }
        catch (Exception e) when (NoSpace.Is(e)) { throw Full(e); }
    }

    /// <summary>Adds a row to a batch (written when the batch fills); a full file system becomes <see cref="Full"/>'s error.</summary>
    private void Write(BatchInsert batch, long a, long b, long c)
    {
        try { batch.Add(a, b, c); }
        catch (Exception e) when (NoSpace.Is(e)) { batch.Discard(); throw Full(e); }
    }

    /// <summary>Writes the frames and stack nodes still batched into the open transaction (frames first: stack nodes name them).</summary>
    private void FlushBatches()
    {
        try
        {
            _insFrames?.Flush();
            _insStacks?.Flush();
        }
        catch (Exception e) when (NoSpace.Is(e)) { _insFrames?.Discard(); _insStacks?.Discard(); throw Full(e); }
    }

    /// <summary>
    /// Commits pending writes (when writable) and closes the database. After a full file system stopped a write, the
    /// open transaction is rolled back instead and the store keeps its last commit; throws <see cref="StoreException"/>
    /// when this last commit itself finds the file system full (after closing everything).
    /// </summary>
    public void Dispose()
    {
        StoreException? failed = null;
        if (IsWritable && _tx != null)
        {
            if (_full == null)
            {
                try
                {
                    FlushPending(SyncOnCommit);
                    _tx.Commit();
                }
                catch (Exception e) when (NoSpace.Is(e)) { failed = Full(e); }
            }
            if (_full != null)
                try { _tx.Rollback(); } catch (Exception e) when (e is SqliteException or InvalidOperationException) { /* SQLite rolled it back itself */ }
            _tx.Dispose();
            _tx = null;
            // Fold the WAL back into the main file so a finished session is one self-contained file.
            if (_full == null)
                try { Exec("PRAGMA wal_checkpoint(TRUNCATE);"); }
                catch (Exception e) when (e is SqliteException or StoreException) { /* readers still attached, or no room to fold it: the WAL stays */ }
        }
        _insTotals?.Dispose(); _insFrames?.Dispose(); _insStacks?.Dispose(); _insFrameName?.Dispose();
        if (_full != null) _log?.DisposeDiscarding();
        else
            try { _log?.Dispose(); }
            catch (IOException e) when (NoSpace.Is(e)) { failed = Full(e); _log?.DisposeDiscarding(); }
        _db.Dispose();
        if (failed != null) throw failed;
    }

    private void Exec(string sql, params (string, object?)[] args)
    {
        if (IsWritable) ThrowIfFull();
        using var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        foreach (var (n, v) in args) c.Parameters.AddWithValue(n, v ?? DBNull.Value);
        Write(c);
    }

    private SqliteDataReader Query(string sql, params (string, object?)[] args)
    {
        if (IsWritable && _full == null) FlushBatches(); // a writer's reads see what it interned
        var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        foreach (var (n, v) in args) c.Parameters.AddWithValue(n, v ?? DBNull.Value);
        return c.ExecuteReader();
    }

    /// <summary>A SELECT over a big table read through SQLite's C API (<see cref="RawRows"/>); sees a writer's interned rows, as <see cref="Query"/> does.</summary>
    private RawRows Rows(string sql, params long[] args)
    {
        if (IsWritable && _full == null) FlushBatches();
        return new RawRows(_db, sql, args);
    }

    /// <summary>The number of rows of <paramref name="table"/>, at most 2^28: a capacity for a dictionary of them.</summary>
    private int CountRows(string table)
    {
        using var r = Rows($"SELECT COUNT(*) FROM {table}");
        return r.Step() ? (int)Math.Clamp(r.Int64(0), 0, 1 << 28) : 0;
    }

    /// <summary>The largest id of <paramref name="table"/> and its number of rows (0, 0 when empty).</summary>
    private (long MaxId, long Count) IdRange(string table)
    {
        using var r = Rows($"SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {table}");
        return r.Step() ? (r.Int64(0), r.Int64(1)) : (0, 0);
    }

    private string? ScalarString(string sql)
    {
        using var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        return c.ExecuteScalar() as string;
    }
}

/// <summary>
/// A session store that cannot be used: missing, not a store, of another schema version, or on a full file system
/// (<see cref="IsNoSpace"/>, made by <see cref="NoSpace.Error"/>). The message is for the user.
/// </summary>
public sealed class StoreException : XenProf.Hypervisor.Binary.XenProfUserException
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public StoreException(string message) : base(message) { }

    /// <summary>A full file system stopped a write; <paramref name="cause"/> is SQLite's or the OS's error.</summary>
    public StoreException(string message, Exception cause) : base(message, cause) { IsNoSpace = NoSpace.Is(cause); }

    /// <summary>True when the store could not be written because its file system is full.</summary>
    public bool IsNoSpace { get; }
}
