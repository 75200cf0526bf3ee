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

    /// <summary>Creates the directory; a path that cannot be created or written gives a <see cref="SessionException"/> naming it.</summary>
    public void EnsureWritable()
    {
        try
        {
            Directory.CreateDirectory(Path);
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Writes <paramref name="config"/> to <see cref="ConfigPath"/>.</summary>
    public void WriteConfig(SessionConfig config) =>
        File.WriteAllText(ConfigPath, JsonSerializer.Serialize(config, SessionConfigJson.Default.SessionConfig));

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
