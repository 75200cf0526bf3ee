using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Import;

namespace XenProf.Cli.Commands;

/// <summary>Reports straight from a trace file: the session to read is the file's cached import.</summary>
internal static class DirectTrace
{
    /// <summary>
    /// One side of a differential report, or any place a source is named explicitly: a session directory (one holding a
    /// session store), <c>session:NAME</c> (saved in <paramref name="sessionDir"/>) or a trace file, as <see cref="SessionFor"/>
    /// reads them. Returns the session directory to read.
    /// </summary>
    /// <exception cref="UserErrorException">A directory without a session store.</exception>
    public static string SourceFor(string verb, string source, string sessionDir, string? kallsyms, CancellationToken ct, bool strict = false, bool leafOnly = false)
    {
        if (!Directory.Exists(source)) return SessionFor(verb, source, sessionDir, kallsyms, ct, strict, leafOnly);
        if (!File.Exists(new Sampler.Session.SessionDirectory(source).StorePath))
            throw new UserErrorException($"{source}: a directory without a session store; expected a session directory (xenoprof record --session-dir DIR), session:NAME or a trace file");
        return source;
    }

    /// <summary>
    /// <paramref name="sessionDir"/> when no file is given; its saved session NAME for <c>session:NAME</c> (oprofile's
    /// profile specification, made by <c>opcontrol --save=NAME</c>); else the cached session of <paramref name="file"/>, imported if stale
    /// (<paramref name="strict"/>: also when its import skipped input, and then stopping at the first bad record).
    /// <paramref name="leafOnly"/>: the report reads no callers (a flat report), so a new import keeps leaf frames only
    /// (<see cref="ImportOptions.LeafOnly"/>); without it, a cache of leaf frames is imported again with the callchains.
    /// </summary>
    public static string SessionFor(string verb, string? file, string sessionDir, string? kallsyms, CancellationToken ct, bool strict = false, bool leafOnly = false)
    {
        if (file == null) return sessionDir;
        if (file.StartsWith("session:", StringComparison.Ordinal))
        {
            var current = new Sampler.Session.SessionDirectory(sessionDir);
            var saved = current.Saved(file["session:".Length..]);
            if (!File.Exists(saved.StorePath))
            {
                var names = Directory.Exists(current.SavedRoot) ? Directory.GetDirectories(current.SavedRoot).Select(Path.GetFileName).Order().ToList() : [];
                throw new UserErrorException($"{file}: no saved session of that name in {current.Path} (saved: {(names.Count > 0 ? string.Join(", ", names) : "none")}; make one with 'opcontrol --save=NAME')");
            }
            return saved.Path;
        }
        var symbols = new ImportSymbols();
        var (dir, imported) = Progress.RunWithBar(Console.Error, "importing " + Path.GetFileName(file),
            bar => TraceImport.EnsureCached(file, symbols.Options(new ImportOptions { KallsymsPath = kallsyms, Progress = bar, Strict = strict, LeafOnly = leafOnly }), ct,
                afterImport: d => symbols.FillCache(d.Path))); // reports on the cached import read names, not images
        if (imported != null)
        {
            foreach (var w in imported.Warnings) Console.Error.WriteLine($"xenoprof {verb}: warning: {w}");
            if (imported.Error != null)
                Console.Error.WriteLine($"xenoprof {verb}: {imported.Error.Message}; kept what was read before it, skipped {imported.BytesSkipped} bytes");
        }
        return dir.Path;
    }
}

/// <summary>
/// Names an imported session's frames once (<see cref="SymbolCache"/>), with the kernel symbols parsed on a worker thread
/// while the import still reads samples, as soon as it has written them (<see cref="ImportOptions.KernelSymbolsReady"/>).
/// </summary>
internal sealed class ImportSymbols
{
    private Task<KernelSymbols>? _kernel;

    /// <summary><paramref name="options"/> with the hook that starts parsing the session's kernel symbols.</summary>
    public ImportOptions Options(ImportOptions options) =>
        options with { KernelSymbolsReady = d => _kernel = Task.Run(() => KernelSymbols.Load(d.KallsymsPath, d.ModulesPath)) };

    /// <summary>Fills the symbol cache of the imported session in <paramref name="sessionDir"/>.</summary>
    public void FillCache(string sessionDir)
    {
        var kernel = _kernel;
        SymbolCache.Fill(sessionDir, kernel == null ? null : () => kernel.GetAwaiter().GetResult());
    }
}
