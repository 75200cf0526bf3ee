using System.Text.Json;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Session;

/// <summary>
/// The files of one session directory:
/// <code>
/// samples.db (+ -wal, -shm)   the session store (<see cref="StoreSchema"/>)
/// samples.db-samples           its sample log: one 40-byte record per sample
/// session.json                 the session configuration (<see cref="SessionConfig"/>)
/// kallsyms, modules            copies of /proc/kallsyms and /proc/modules taken when sampling started
/// daemon.sock                  the daemon's control socket (mode 0600)
/// daemon.pid, daemon.log       the daemon's pid and log
/// </code>
/// </summary>
public sealed class SessionDirectory
{
    /// <summary>Wraps <paramref name="path"/> (made absolute; not created).</summary>
    public SessionDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    /// <summary>Absolute directory path.</summary>
    public string Path { get; }

    /// <summary>Group that may read the session (<c>--group NAME</c>); null = private to its owner (<see cref="SessionPrivacy"/>).</summary>
    public string? Group { get; init; }

    /// <summary>The sample store.</summary>
    public string StorePath => System.IO.Path.Combine(Path, StoreSchema.FileName);
    /// <summary>The configuration file.</summary>
    public string ConfigPath => System.IO.Path.Combine(Path, "session.json");
    /// <summary>Snapshot of /proc/kallsyms.</summary>
    public string KallsymsPath => System.IO.Path.Combine(Path, "kallsyms");
    /// <summary>Snapshot of /proc/modules.</summary>
    public string ModulesPath => System.IO.Path.Combine(Path, "modules");
    /// <summary>The daemon's control socket.</summary>
    public string SocketPath => System.IO.Path.Combine(Path, "daemon.sock");
    /// <summary>The daemon's pid file.</summary>
    public string PidPath => System.IO.Path.Combine(Path, "daemon.pid");
    /// <summary>The daemon's log.</summary>
    public string LogPath => System.IO.Path.Combine(Path, "daemon.log");

    /// <summary>Where saved sessions live: <c>DIR/saved/NAME</c>, each a session directory of its own (opcontrol <c>--save=NAME</c>).</summary>
    public string SavedRoot => System.IO.Path.Combine(Path, "saved");

    /// <summary>
    /// The saved session <paramref name="name"/> (<c>opreport session:NAME</c>). Throws <see cref="SessionException"/>
    /// for a name that is empty, <c>.</c>, <c>..</c> or holds a <c>/</c>.
    /// </summary>
    public SessionDirectory Saved(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new SessionException($"session name '{name}': expected a plain name (no '/', not '.' or '..')");
        return new SessionDirectory(System.IO.Path.Combine(SavedRoot, name)) { Group = Group };
    }

    /// <summary>
    /// Samples already stored in this session (0 when there is no store yet). Throws <see cref="StoreException"/>
    /// for a store of another schema version or a file that is not a store.
    /// </summary>
    public long StoredSamples()
    {
        if (!File.Exists(StorePath)) return 0;
        using var store = SessionStore.OpenRead(StorePath);
        return store.CountSamples();
    }

    /// <summary>
    /// Archives what <paramref name="store"/> (this session's store, open for writing) holds as saved session
    /// <paramref name="name"/>: a consistent copy of the store, plus the kernel symbol snapshots and the configuration,
    /// so the archive reports as the session did. The caller clears the samples afterwards, as <c>opcontrol --save</c>
    /// does. Throws <see cref="StoreException"/> when that name is taken.
    /// </summary>
    public SessionDirectory SaveAs(SessionStore store, string name)
    {
        var saved = Saved(name);
        if (Directory.Exists(saved.Path) && File.Exists(saved.StorePath))
            throw new StoreException($"{saved.Path}: a saved session named '{name}' already exists; choose another name");
        saved.EnsureWritable();
        store.SaveTo(saved.StorePath);
        foreach (var (src, dst) in new[] { (KallsymsPath, saved.KallsymsPath), (ModulesPath, saved.ModulesPath), (ConfigPath, saved.ConfigPath) })
            if (File.Exists(src)) File.Copy(src, dst, overwrite: true);
        return saved;
    }

    /// <summary>
    /// Moves the session's samples (the store, its log and the kernel symbol snapshots; a copy of the configuration) to saved session
    /// <paramref name="name"/>, replacing an earlier archive of that name. <c>record</c> keeps the previous run
    /// this way, as operf moves <c>current</c> to <c>previous</c>. Returns the samples moved (0: nothing was there).
    /// </summary>
    public long MoveSamplesTo(string name)
    {
        long n = StoredSamples();
        if (n == 0) { DeleteSamples(); return 0; }
        var saved = Saved(name);
        saved.DeleteSamples();
        saved.EnsureWritable();
        foreach (var (src, dst) in SampleFiles().Zip(saved.SampleFiles()).Concat([(KallsymsPath, saved.KallsymsPath), (ModulesPath, saved.ModulesPath)]))
            if (File.Exists(src)) File.Move(src, dst, overwrite: true);
        if (File.Exists(ConfigPath)) File.Copy(ConfigPath, saved.ConfigPath, overwrite: true); // the run's report defaults go with it
        return n;
    }

    /// <summary>Deletes the session's store and sample log (opcontrol <c>--reset</c> with no daemon running).</summary>
    public void DeleteSamples()
    {
        foreach (var f in SampleFiles()) if (File.Exists(f)) File.Delete(f);
    }

    private string[] SampleFiles() => [StorePath, StorePath + "-wal", StorePath + "-shm", SampleLog.PathFor(StorePath)];

    /// <summary>
    /// Creates the directory (0700, or the <see cref="Group"/>'s 2750) and makes an existing one of this user as private;
    /// a path that cannot be created or written gives a <see cref="SessionException"/> naming it.
    /// </summary>
    public void EnsureWritable()
    {
        try
        {
            Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            SessionPrivacy.ApplyTo(Path, Group);
            var probe = System.IO.Path.Combine(Path, ".write-test");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SessionException($"session directory {Path} is not writable: {e.Message.TrimEnd('.')}; choose another with --session-dir");
        }
    }

    /// <summary>Copies /proc/kallsyms and /proc/modules into the session (the kernel's symbols as they were when sampling ran).</summary>
    public void SnapshotKernelSymbols(string procRoot = "/proc")
    {
        foreach (var (src, dst) in new[] { ("kallsyms", KallsymsPath), ("modules", ModulesPath) })
        {
            try
            {
                // Streamed (procfs files report size 0, so File.Copy would copy nothing; a 5 MB string is garbage).
                using var from = new FileStream(System.IO.Path.Combine(procRoot, src), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
                using var to = new FileStream(dst, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
                from.CopyTo(to, 1 << 16);
            }
            catch (IOException e) when (NoSpace.Is(e))
            {
                // A cut-off symbol table would name kernel frames wrongly: no table at all leaves them unnamed.
                try { File.Delete(dst); } catch (IOException) { }
                throw NoSpace.Error(Path, System.IO.Path.GetFileName(dst), e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Writes <paramref name="config"/> to <see cref="ConfigPath"/> through a temporary file renamed over it, so a full
    /// file system or a crash leaves the previous configuration, never a truncated one. Throws <see cref="StoreException"/>
    /// ("no space left on DIR") when the file system is full.
    /// </summary>
    public void WriteConfig(SessionConfig config)
    {
        var tmp = ConfigPath + ".tmp";
        try
        {
            File.WriteAllText(tmp, JsonSerializer.Serialize(config, SessionConfigJson.Default.SessionConfig));
            File.Move(tmp, ConfigPath, overwrite: true);
        }
        catch (IOException e) when (NoSpace.Is(e))
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw NoSpace.Error(Path, System.IO.Path.GetFileName(ConfigPath), e);
        }
    }

    /// <summary>Reads the configuration; throws <see cref="SessionException"/> when missing or unreadable.</summary>
    public SessionConfig ReadConfig()
    {
        try { return JsonSerializer.Deserialize(File.ReadAllText(ConfigPath), SessionConfigJson.Default.SessionConfig) ?? throw new SessionException($"{ConfigPath}: empty session configuration"); }
        catch (FileNotFoundException) { throw new SessionException($"{ConfigPath}: no session configuration; start with 'xenoprof opcontrol --start-daemon'"); }
        catch (JsonException e) { throw new SessionException($"{ConfigPath}: unreadable session configuration: {e.Message}"); }
    }
}

/// <summary>
/// A session's configuration as opcontrol sets it up: events in oprofile spelling, callgraph depth
/// (0 = no callchains), and the sampling target (system-wide or one process tree).
/// </summary>
public sealed record SessionConfig
{
    /// <summary>Event specs, <c>NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]</c>; empty = the default event.</summary>
    public List<string> Events { get; set; } = new();

    /// <summary>Maximum callchain depth recorded, 0 = none (opcontrol <c>--callgraph=N</c>).</summary>
    public int CallgraphDepth { get; set; }

    /// <summary>Sample every CPU and process (true for the opcontrol daemon and <c>record -a</c>).</summary>
    public bool SystemWide { get; set; } = true;

    /// <summary>Ring buffer size per CPU, in data pages (a power of two).</summary>
    public int RingPages { get; set; } = 128;

    /// <summary>Group that may read the session (<c>--group</c>), or null: private to its owner.</summary>
    public string? Group { get; set; }

    /// <summary>
    /// opcontrol/record <c>--separate</c> as given (<c>none,lib,kernel,thread,cpu,all</c>), or null: what opreport keeps
    /// apart unless its own <c>--separate</c>/<c>--merge</c> say otherwise. Every sample keeps its pid, tid and CPU
    /// whatever this says; it only sets the report's default.
    /// </summary>
    public string? Separate { get; set; }

    /// <summary>
    /// opcontrol <c>--clickhouse URL</c>: the fleet database's HTTP URL the daemon streams the session to as it dumps,
    /// or null. A password in the URL is kept here as given (the file is private to the session's owner and group).
    /// </summary>
    public string? ClickHouse { get; set; }

    /// <summary>With <see cref="ClickHouse"/>: the database (null: the default, <c>xenprof</c>).</summary>
    public string? ClickHouseDatabase { get; set; }

    /// <summary>With <see cref="ClickHouse"/>: the host name the session is reported under (null: this machine's).</summary>
    public string? ClickHouseHostName { get; set; }

    /// <summary>Xen session: where samples come from (<c>emulated:SCENARIO</c> or <c>privcmd</c>), or null for perf_event.</summary>
    public string? Hypervisor { get; set; }

    /// <summary>Xen session setup (opcontrol <c>--xen</c>, <c>--active-domains</c>, <c>--passive-domains</c>…), with <see cref="Hypervisor"/>.</summary>
    public XenProf.Sampler.Xenoprof.XenSessionOptions? Xen { get; set; }
}

/// <summary>Compile-time JSON metadata for <c>session.json</c> (no reflection: works in a native AOT build). The
/// configuration's properties are settable rather than init-only so that a file missing one keeps its default.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SessionConfig))]
internal sealed partial class SessionConfigJson : System.Text.Json.Serialization.JsonSerializerContext;
