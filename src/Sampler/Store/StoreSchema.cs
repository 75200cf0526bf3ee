namespace XenProf.Sampler.Store;

/// <summary>
/// The session store's SQL schema, version <see cref="Version"/>. One SQLite database per session,
/// in WAL mode so reporters read while the daemon writes. Normalized like pprof's profile.proto:
/// <code>
/// meta(key, value)                       -- schema_version, created_ns, hostname, kernel, cpu, default_event, …
/// events(id, name, perf_type, perf_config, count, unit_mask, kernel, user, unit, description)
///                                        -- count: sample period (events between samples; ns for CPU_CLOCK)
/// domains(domid, name)                   -- 0 = dom0 / the native host
/// processes(domain, pid, ppid, comm)     -- last known name of each process (thread-group leader)
/// threads(domain, tid, pid, comm)
/// images(id, domain, path, build_id, kind) -- kind: <see cref="ImageKind"/>; build_id lowercase hex or NULL;
///                                        -- (v4) domain: the domain whose code the image is (a passive Xen
///                                        -- domain's kernel, its Xen, its user code; a perf kvm guest's), 0 for
///                                        -- dom0's or the native host's; an image is (domain, path, build_id)
/// mappings(id, domain, pid, image_id, start, limit, pgoff, time_ns)   -- [start, limit) runtime addresses
/// frames(id, image_id, offset)           -- offset: file offset for ELF, absolute address for kernel,
///                                        -- modules and hypervisor; caller frames hold the raw return address
/// frame_names(frame_id, name)            -- (v2) the symbol name the source itself gave a frame: perf script's
///                                        -- sym, a .nettrace's Namespace.Type.Method(args). Sources that give
///                                        -- names, not bytes to look up, store them here (like pprof's
///                                        -- Location→Function); reports prefer this name over a symbolizer's. Such
///                                        -- frames' images are the dso or managed module; their offset is the
///                                        -- source's address when it gives one, else a per-image ordinal (1, 2, …
///                                        -- in order of first use). name NULL: the source found no symbol there
///                                        -- (perf's [unknown]); reports leave it unnamed rather than look the
///                                        -- address up
/// stacks(id, parent_id, frame_id)        -- prefix tree, root (outermost caller) first: parent_id is
///                                        -- the caller's stack, 0 at the root
/// comms(id, name)                        -- (v3) thread names as samples saw them (perf's comm at the sample's time)
/// stack_totals(event_id, domain, pid, comm_id, stack_id, samples, weight, period, period_sq)
///                                        -- (v3) per-sample records summed by key: what reports read; samples
///                                        -- counts records, weight sums their weights; (v5) period sums their
///                                        -- periods (events, in the event's unit), period_sq each sample's period
///                                        -- squared (REAL), for weighted error bars
/// samples.db-samples                     -- (v3) the samples themselves, one fixed 48-byte record each (time_ns,
///                                        -- weight, stack_id, pid, tid, event_id, cpu, domain, mode, period) in a file
///                                        -- beside the database (<see cref="SampleLog"/>) with the thread's comm_id;
///                                        -- meta.sample_log_bytes
///                                        -- is its committed length. stack_id names the leaf (sampled) frame's
///                                        -- node; weight in samples (1 each, larger for merged/imported samples)
/// symbol_cache(image_id, offset, name, located, start, size, address)
///                                        -- (v3) what the reporter's symbolizer answered for each frame, saved once
///                                        -- for a finished import (<see cref="SessionStore.WriteSymbolCache"/>) so
///                                        -- later reports need neither kallsyms nor the images; located 0: no
///                                        -- function range known (start, size, address 0)
/// leaf_totals(event_id, domain, pid, comm_id, image_id, name, samples, weight, period, period_sq)
///                                        -- (v5, optional) stack_totals summed per leaf image and symbol name as
///                                        -- the symbol cache's symbolizer names them, written with it; meta
///                                        -- leaf_totals = CONFIGURATION;SAMPLES (<see cref="SessionStore.WriteLeafTotals"/>):
///                                        -- flat reports read these while the sample count is unchanged
/// counters(name, value)                  -- lost_samples, lost_records, throttled, unknown_records, …
/// </code>
/// The meta key <see cref="PassiveDomainsKey"/> lists, as a comma list, the domains whose samples are reported inside
/// dom0's report (Xen's passive domains, perf kvm's guests); a sample of such a domain carries that domain.
/// Version history: 1 — frames are (image, offset) only; 2 — adds <c>frame_names</c> and
/// <see cref="ImageKind.Managed"/>; 3 — samples move from a table (one SQLite row each, the import bottleneck)
/// to the sample log, with <c>stack_totals</c> kept in step for reports; 4 — images carry their <c>domain</c>
/// and are keyed by (domain, path, build_id): a passive domain's samples carry their domain, and their images their
/// domain, real kind and file, instead of dom0's domain and <c>domainN-kernel</c>-style names; 5 — every sample keeps its
/// period (perf's PERF_SAMPLE_PERIOD: a frequency-mode recording's periods differ sample to sample) and
/// <c>stack_totals</c> sums it (<c>period</c>, <c>period_sq</c>). A version 4 store is migrated in place when opened
/// (<see cref="SessionStore.OpenForAppend"/>, <see cref="SessionStore.OpenRead"/>): the two columns are added and filled
/// from each event's configured count, and its 40-byte sample records stay where they are, read with that period
/// (<c>meta.sample_log_v4_bytes</c> says how many bytes of them the log starts with). Readers refuse other versions
/// (re-record or re-import).
/// </summary>
public static class StoreSchema
{
    /// <summary>Schema version written to <c>meta.schema_version</c>; readers migrate <see cref="MigratableVersion"/> and refuse other versions.</summary>
    public const int Version = 5;

    /// <summary>The older version a store is migrated from in place when opened.</summary>
    public const int MigratableVersion = 4;

    /// <summary><c>meta</c> key (v5): bytes of 40-byte v4 sample records at the start of a migrated store's sample log (absent: none).</summary>
    public const string LegacyLogBytesKey = "sample_log_v4_bytes";

    /// <summary>
    /// <c>meta</c> key: the domains reported inside dom0's report, ids separated by commas (<c>1,3</c>): Xen's passive
    /// domains (opcontrol <c>--passive-domains</c>) and the guests of an imported <c>perf kvm</c> recording.
    /// </summary>
    public const string PassiveDomainsKey = "xen_passive_domains";

    /// <summary>File name of the database inside a session directory.</summary>
    public const string FileName = "samples.db";

    internal const string CreateSql = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, name TEXT NOT NULL, perf_type INTEGER NOT NULL,
            perf_config INTEGER NOT NULL, count INTEGER NOT NULL, unit_mask INTEGER NOT NULL, kernel INTEGER NOT NULL,
            user INTEGER NOT NULL, unit TEXT NOT NULL, description TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS domains(domid INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS processes(domain INTEGER NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL,
            comm TEXT NOT NULL, PRIMARY KEY(domain, pid));
        CREATE TABLE IF NOT EXISTS threads(domain INTEGER NOT NULL, tid INTEGER NOT NULL, pid INTEGER NOT NULL,
            comm TEXT NOT NULL, PRIMARY KEY(domain, tid));
        CREATE TABLE IF NOT EXISTS images(id INTEGER PRIMARY KEY, domain INTEGER NOT NULL, path TEXT NOT NULL, build_id TEXT, kind INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS mappings(id INTEGER PRIMARY KEY, domain INTEGER NOT NULL, pid INTEGER NOT NULL,
            image_id INTEGER NOT NULL REFERENCES images(id), start INTEGER NOT NULL, limit_ INTEGER NOT NULL,
            pgoff INTEGER NOT NULL, time_ns INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS frames(id INTEGER PRIMARY KEY, image_id INTEGER NOT NULL REFERENCES images(id),
            offset INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS frame_names(frame_id INTEGER PRIMARY KEY REFERENCES frames(id), name TEXT);
        CREATE TABLE IF NOT EXISTS stacks(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, frame_id INTEGER NOT NULL
            REFERENCES frames(id));
        CREATE TABLE IF NOT EXISTS comms(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS stack_totals(event_id INTEGER NOT NULL, domain INTEGER NOT NULL, pid INTEGER NOT NULL,
            comm_id INTEGER NOT NULL, stack_id INTEGER NOT NULL, samples INTEGER NOT NULL, weight INTEGER NOT NULL,
            period INTEGER NOT NULL DEFAULT 0, period_sq REAL NOT NULL DEFAULT 0, PRIMARY KEY(event_id, domain, pid, comm_id, stack_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS symbol_cache(image_id INTEGER NOT NULL, offset INTEGER NOT NULL, name TEXT,
            located INTEGER NOT NULL, start INTEGER NOT NULL, size INTEGER NOT NULL, address INTEGER NOT NULL,
            PRIMARY KEY(image_id, offset)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        """;

    /// <summary>
    /// Version 4 → 5, in one transaction: the period columns of <c>stack_totals</c>, filled as weight × the event's
    /// configured count (at least 1), and the sample log's v4 prefix recorded as the whole of its committed length.
    /// </summary>
    internal const string MigrateFrom4Sql = """
        ALTER TABLE stack_totals ADD COLUMN period INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stack_totals ADD COLUMN period_sq REAL NOT NULL DEFAULT 0;
        UPDATE stack_totals SET
            period = weight * COALESCE((SELECT MAX(1, count) FROM events WHERE events.id = stack_totals.event_id), 1),
            period_sq = weight * CAST(COALESCE((SELECT MAX(1, count) FROM events WHERE events.id = stack_totals.event_id), 1) AS REAL)
                * COALESCE((SELECT MAX(1, count) FROM events WHERE events.id = stack_totals.event_id), 1);
        INSERT OR REPLACE INTO meta(key, value)
            VALUES ('sample_log_v4_bytes', COALESCE((SELECT value FROM meta WHERE key = 'sample_log_bytes'), '0'));
        UPDATE meta SET value = '5' WHERE key = 'schema_version';
        """;
}
