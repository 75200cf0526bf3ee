using XenProf.Sampler.Import;

namespace XenProf.Cli.Commands;

/// <summary>Reports straight from a trace file: the session to read is the file's cached import.</summary>
internal static class DirectTrace
{
    /// <summary><paramref name="sessionDir"/> when no file is given; else the cached session of <paramref name="file"/>, imported if stale.</summary>
    public static string SessionFor(string verb, string? file, string sessionDir, string? kallsyms, CancellationToken ct)
    {
        if (file == null) return sessionDir;
        var (dir, imported) = TraceImport.EnsureCached(file, new ImportOptions { KallsymsPath = kallsyms, Progress = ImportProgress.ForTerminal(Console.Error) }, ct);
        if (imported != null)
        {
            XenProf.Reporter.Profile.SymbolCache.Fill(dir.Path); // reports on the cached import read names, not images
            ImportProgress.Clear(Console.Error);
            foreach (var w in imported.Warnings) Console.Error.WriteLine($"xenoprof {verb}: warning: {w}");
            if (imported.Error != null)
                Console.Error.WriteLine($"xenoprof {verb}: {imported.Error.Message}; kept what was read before it, skipped {imported.BytesSkipped} bytes");
        }
        return dir.Path;
    }
}
