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
        var group = CommonOptions.Group();
        var strict = CommonOptions.Strict();
        var cmd = new Command("import", "Import a recorded trace (perf.data, perf script text, .nettrace) into a session, so every report works on it") { file, dir, group, kallsyms, strict, Run.Verbose };
        cmd.SetAction(pr => Run.Guarded("import", pr.GetValue(Run.Verbose), ct => Execute(
            pr.GetValue(file)!, CommonOptions.Session(pr.GetValue(dir)!, pr.GetValue(group)), pr.GetValue(kallsyms), Console.Error, ct, pr.GetValue(strict))));
        return cmd;
    }

    /// <summary>Imports <paramref name="file"/> into <paramref name="dir"/>; progress, warnings and the summary go to <paramref name="stderr"/>.
    /// <paramref name="strict"/> stops at the first record that does not parse (a <see cref="Hypervisor.Binary.MalformedDataException"/>, exit 1).</summary>
    public static int Execute(string file, SessionDirectory dir, string? kallsyms, TextWriter stderr, CancellationToken ct, bool strict = false)
    {
        var symbols = new ImportSymbols();
        var r = Progress.RunWithBar(stderr, "importing " + Path.GetFileName(file),
            bar => TraceImport.Import(file, dir, symbols.Options(new ImportOptions { KallsymsPath = kallsyms, Progress = bar, Strict = strict }), ct));
        symbols.FillCache(dir.Path); // the imported session does not change: name its frames once
        return Report("import", r, dir.Path, stderr);
    }

    /// <summary>Prints an import's summary and warnings; returns 0, or 1 when malformed data cut the import short.</summary>
    public static int Report(string verb, ImportResult r, string sessionDir, TextWriter stderr)
    {
        foreach (var w in r.Warnings) stderr.WriteLine($"xenoprof {verb}: warning: {w}");
        stderr.WriteLine($"xenoprof {verb}: {r.Source} ({r.Format}, events {string.Join(", ", r.EventNames)}): {r.Records} records, {r.Samples} samples into {sessionDir}");
        if (r.Error == null) return 0;
        stderr.WriteLine($"xenoprof {verb}: {r.Error.Message}; kept what was read before it, skipped {r.BytesSkipped} bytes");
        return (int)ExitCode.UserError;
    }
}
