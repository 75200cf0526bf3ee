using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Sampler.Import;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof import FILE</c>: takes a recorded trace (perf.data, perf script text, .nettrace) into a session store, as live sampling writes it.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var file = new Argument<string>("file") { Description = "Trace to import: a perf.data file (file or pipe mode, -z compressed), perf script output, or a .nettrace (EventPipe); told apart by content" };
        var kallsyms = CommonOptions.Kallsyms();
        var cmd = new Command("import", "Import a recorded trace (perf.data, perf script text, .nettrace) into a session, so every report works on it") { file, dir, kallsyms, Run.Verbose };
        cmd.SetAction(pr => Run.Guarded("import", pr.GetValue(Run.Verbose), ct => Execute(
            pr.GetValue(file)!, new SessionDirectory(pr.GetValue(dir)!), pr.GetValue(kallsyms), Console.Error, ct)));
        return cmd;
    }

    /// <summary>Imports <paramref name="file"/> into <paramref name="dir"/>; progress, warnings and the summary go to <paramref name="stderr"/>.</summary>
    public static int Execute(string file, SessionDirectory dir, string? kallsyms, TextWriter stderr, CancellationToken ct)
    {
        var symbols = new ImportSymbols();
        var r = TraceImport.Import(file, dir, symbols.Options(new ImportOptions { KallsymsPath = kallsyms, Progress = ImportProgress.ForTerminal(stderr) }), ct);
        symbols.FillCache(dir.Path); // the imported session does not change: name its frames once
        return Report("import", r, dir.Path, stderr);
    }

    /// <summary>Prints an import's summary and warnings; returns 0, or 1 when malformed data cut the import short.</summary>
    public static int Report(string verb, ImportResult r, string sessionDir, TextWriter stderr)
    {
        ImportProgress.Clear(stderr);
        foreach (var w in r.Warnings) stderr.WriteLine($"xenoprof {verb}: warning: {w}");
        stderr.WriteLine($"xenoprof {verb}: {r.Source} ({r.Format}, events {string.Join(", ", r.EventNames)}): {r.Records} records, {r.Samples} samples into {sessionDir}");
        if (r.Error == null) return 0;
        stderr.WriteLine($"xenoprof {verb}: {r.Error.Message}; kept what was read before it, skipped {r.BytesSkipped} bytes");
        return (int)ExitCode.UserError;
    }
}

/// <summary>A one-line progress bar on stderr when it is a terminal (long imports).</summary>
internal static class ImportProgress
{
    private static bool _shown;

    public static IProgress<double>? ForTerminal(TextWriter stderr)
    {
        if (Console.IsErrorRedirected || !ReferenceEquals(stderr, Console.Error)) return null;
        return new Progress<double>(f =>
        {
            int pct = (int)Math.Clamp(f * 100, 0, 100);
            stderr.Write($"\rimporting [{new string('#', pct / 4),-25}] {pct,3}%");
            _shown = true;
        });
    }

    public static void Clear(TextWriter stderr)
    {
        if (_shown) stderr.Write("\r" + new string(' ', 40) + "\r");
        _shown = false;
    }
}
