using System.Globalization;
using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Import.PerfData;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Import;

/// <summary>Options of <see cref="TraceImport.Import"/>.</summary>
public sealed record ImportOptions
{
    /// <summary>Kernel symbols to use (a saved /proc/kallsyms of the recording machine); null = this machine's when the file was recorded here.</summary>
    public string? KallsymsPath { get; init; }
    /// <summary>Receives the fraction of the input read.</summary>
    public IProgress<double>? Progress { get; init; }
    /// <summary>
    /// Called, from a worker thread and while samples are still being imported, once the session's kallsyms and modules
    /// files are written (file-mode perf.data, whose header says which kernel recorded it): lets a caller start parsing
    /// them in parallel. Not called when the import writes them only at its end (pipe mode).
    /// </summary>
    public Action<SessionDirectory>? KernelSymbolsReady { get; init; }
    /// <summary>
    /// Stop at the first record that does not parse (a perf script line, a perf.data record) with a
    /// <see cref="MalformedDataException"/> naming the file and the line or offset, instead of skipping and counting it.
    /// </summary>
    public bool Strict { get; init; }
    /// <summary>
    /// Store each sample's leaf frame only, not its callers (perf.data; the other formats keep their callchains): what
    /// a flat report needs (perf's <c>report -g none</c> reads no more), and several times faster and smaller to import
    /// when the samples carry deep callchains. The store says so (<see cref="TraceImport.CallchainsKey"/>):
    /// <see cref="TraceImport.EnsureCached"/> imports it again for a caller that needs the callers.
    /// </summary>
    public bool LeafOnly { get; init; }
}

/// <summary>
/// What an import did. <see cref="Error"/> is set when the input ended in malformed data: everything before it was
/// imported and <see cref="BytesSkipped"/> bytes after it were not.
/// </summary>
public sealed record ImportResult(string Source, string Format, long Samples, long Records,
    IReadOnlyDictionary<uint, long> RecordsByType, IReadOnlyList<string> EventNames, MalformedDataException? Error,
    long BytesSkipped, IReadOnlyList<string> Warnings);

/// <summary>
/// Takes recorded traces into a session directory, the same store live sampling writes, so every report and
/// export works on them. Formats (told apart by their first bytes, <see cref="Sniff"/>): perf.data (file and pipe
/// mode, zstd-compressed), <c>perf script</c> text, and <c>.nettrace</c> (EventPipe).
/// </summary>
public static partial class TraceImport
{
    /// <summary>Version of the importer, stored with cached sessions: a newer importer re-imports. 5: samples keep their
    /// period, and a perf.data process keeps its mappings across exec as perf does.</summary>
    public const int ImporterVersion = 5;

    /// <summary>
    /// <c>meta</c> key: <see cref="LeafOnlyCallchains"/> when the import kept each sample's leaf frame only
    /// (<see cref="ImportOptions.LeafOnly"/>); absent when it kept the callchains.
    /// </summary>
    public const string CallchainsKey = "callchains";

    /// <summary>The <see cref="CallchainsKey"/> value of an import that kept leaf frames only.</summary>
    public const string LeafOnlyCallchains = "leaf";

    /// <summary>Imports <paramref name="file"/> into <paramref name="dir"/> (its store is replaced).</summary>
    /// <exception cref="MalformedDataException">The file is not a trace we read, or its header is unusable.</exception>
    public static ImportResult Import(string file, SessionDirectory dir, ImportOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ImportOptions();
        if (!File.Exists(file)) throw new XenProfUserException($"{file}: no such file");
        switch (Sniff(file))
        {
            case TraceFormat.PerfScript: return ImportPerfScript(file, dir, options, ct);
            case TraceFormat.NetTrace: return ImportNetTrace(file, dir, options, ct);
            case TraceFormat.Unknown:
                throw new MalformedDataException(file, 0, "file magic",
                    "not a trace this xenoprof imports: expected perf.data (PERFILE2/PERFFILE), a .nettrace (Nettrace) or perf script text");
        }
        using var reader = PerfDataReader.Open(file);
        dir.EnsureWritable();
        var warnings = new List<string>(reader.Features.Warnings);
        using var store = CreateStore(dir, file);
        var importer = new PerfDataImporter(store, reader, options.LeafOnly);
        // A file's header names its kernel before the data: put the kernel symbols in place on the other CPU meanwhile.
        Task<List<string>>? kernelTask = null;
        if (!reader.IsPipe)
        {
            var f = reader.Features;
            kernelTask = Task.Run(() =>
            {
                var w = KernelSymbols(dir, f, options.KallsymsPath).ToList();
                options.KernelSymbolsReady?.Invoke(dir);
                return w;
            }, ct);
        }
        var result = reader.Read(importer, options.Progress, ct);
        if (options.Strict && (result.FirstMalformedRecord ?? result.Error) is { } bad) throw bad;
        importer.Finish();
        // When no sample had callers to leave out, the store is all a full import would be: it is not marked.
        if (importer.SamplesWithCallersDropped > 0) store.SetMeta(CallchainsKey, LeafOnlyCallchains);
        warnings.AddRange(reader.Features.Warnings.Skip(warnings.Count));
        PerfDataImporter.WriteMeta(store, reader, file);
        WriteSourceMeta(store, file);
        if (result.UnattributedSamples > 0) store.AddCounter("unattributed_samples", result.UnattributedSamples);
        if (result.MalformedRecords > 0)
        {
            warnings.Add($"{result.MalformedRecords} malformed record(s) skipped; the first: {result.FirstMalformedRecord!.Message}");
            store.AddCounter(CounterNames.MalformedRecords, result.MalformedRecords);
        }
        if (result.Error != null)
        {
            store.SetMeta("import_error", result.Error.Message);
            store.AddCounter(CounterNames.BytesSkipped, result.BytesSkipped);
        }
        warnings.AddRange(kernelTask != null ? kernelTask.GetAwaiter().GetResult() : KernelSymbols(dir, reader.Features, options.KallsymsPath));
        return new ImportResult(file, reader.IsPipe ? "perf.data (pipe)" : "perf.data", importer.Samples, result.Records,
            result.RecordsByType, reader.Attrs.Select(a => a.Name).ToList(), result.Error, result.BytesSkipped, warnings);
    }

    /// <summary>
    /// Puts the kernel symbols of the recording machine in the session: the given file, or this machine's
    /// /proc/kallsyms when the file was recorded here (same host name and kernel release). Otherwise the session
    /// gets an empty kallsyms, so kernel frames stay unnamed rather than named from the wrong kernel.
    /// </summary>
    private static IEnumerable<string> KernelSymbols(SessionDirectory dir, PerfDataFeatures f, string? kallsyms)
    {
        if (kallsyms != null)
        {
            File.Copy(kallsyms, dir.KallsymsPath, overwrite: true);
            File.WriteAllText(dir.ModulesPath, "");
            yield break;
        }
        bool here = f.OsRelease == HostFacts.KernelRelease() && (f.Hostname == null || f.Hostname == Environment.MachineName);
        if (here) { dir.SnapshotKernelSymbols(); yield break; }
        File.WriteAllText(dir.KallsymsPath, "");
        File.WriteAllText(dir.ModulesPath, "");
        yield return $"kernel symbols: the file was recorded on {f.Hostname ?? "another host"} (kernel {f.OsRelease ?? "unknown"}), not here; " +
            "kernel frames stay unnamed; give that machine's /proc/kallsyms with --kallsyms FILE";
    }

    /// <summary>
    /// The cached session of <paramref name="file"/> for direct reports (<c>opreport FILE</c>): <c>FILE.xenoprof/</c>
    /// beside it (or under the user's cache directory when that is not writable), imported again only when the
    /// file's size or time changed or the importer is newer. Concurrent callers on one file (an <c>opreport FILE</c> and a
    /// <c>flame FILE</c> started together) take turns on a lock file in the cache directory: one imports, the other then
    /// finds the cache fresh. <paramref name="afterImport"/> runs under the same lock after a fresh import (e.g. to fill
    /// the symbol cache before anyone reads the session).
    /// </summary>
    public static (SessionDirectory Dir, ImportResult? Imported) EnsureCached(string file, ImportOptions? options = null, CancellationToken ct = default,
        Action<SessionDirectory>? afterImport = null)
    {
        var full = Path.GetFullPath(file);
        if (!File.Exists(full)) throw new XenProfUserException($"{file}: no such file");
        var dir = new SessionDirectory(full + ".xenoprof");
        if (!CanWrite(Path.GetDirectoryName(full)!))
        {
            var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Path.GetTempPath(), "xenoprof-cache");
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(full)))[..16];
            dir = new SessionDirectory(Path.Combine(root, "xenoprof", Path.GetFileName(full) + "-" + hash));
        }
        dir.EnsureWritable();
        using var held = LockCache(dir, ct);
        // A strict report does not trust a lenient import that skipped input: importing again stops at the bad record.
        // A cache of leaf frames serves a caller that asks for no more; one that needs the callers imports again.
        if (IsFresh(dir, full, options?.Strict == true, options?.LeafOnly == true)) return (dir, null);
        var imported = Import(full, dir, options, ct);
        afterImport?.Invoke(dir);
        return (dir, imported);
    }

    /// <summary>Waits for an exclusive lock (fcntl, released when the stream closes or the process dies) on the cache's lock file.</summary>
    private static FileStream LockCache(SessionDirectory dir, CancellationToken ct)
    {
        var path = Path.Combine(dir.Path, ".import.lock");
        var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        var deadline = DateTime.UtcNow.AddHours(1);
        while (true)
        {
            try
            {
                fs.Lock(0, 1);
                return fs;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another process is importing this file now.
                if (ct.WaitHandle.WaitOne(50)) { fs.Dispose(); ct.ThrowIfCancellationRequested(); }
            }
            catch (IOException e)
            {
                fs.Dispose();
                throw new IOException($"{path}: still locked after an hour by another xenoprof importing this file ({e.Message})", e);
            }
        }
    }

    private static bool CanWrite(string d)
    {
        try
        {
            var probe = Path.Combine(d, ".xenoprof-probe-" + Environment.ProcessId);
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static bool IsFresh(SessionDirectory dir, string file, bool strict, bool leafOnly)
    {
        if (!File.Exists(dir.StorePath)) return false;
        try
        {
            using var s = SessionStore.OpenRead(dir.StorePath);
            var m = s.ReadMeta();
            var fi = new FileInfo(file);
            if (strict && (m.ContainsKey("import_error") || s.ReadCounters().Any(c => c.Value > 0 && c.Key is CounterNames.SkippedLines
                    or CounterNames.SkippedSamples or CounterNames.MalformedRecords or CounterNames.BytesSkipped)))
                return false;
            if (!leafOnly && m.GetValueOrDefault(CallchainsKey) == LeafOnlyCallchains) return false;
            return m.GetValueOrDefault(ImportStateKey) != ImportIncomplete
                && m.GetValueOrDefault("source_size") == fi.Length.ToString(CultureInfo.InvariantCulture)
                && m.GetValueOrDefault("source_mtime_ns") == (fi.LastWriteTimeUtc.Ticks * 100).ToString(CultureInfo.InvariantCulture)
                && m.GetValueOrDefault("importer_version") == ImporterVersion.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is StoreException or Microsoft.Data.Sqlite.SqliteException) { return false; }
    }
}
