using XenProf.Hypervisor.Binary;

namespace XenProf.Fuzz;

/// <summary>
/// <c>XenProf.Fuzz PARSER</c>: the afl++ target (SharpFuzz, persistent mode; run it through <c>fuzz/run.sh</c>, which
/// instruments the XenProf assemblies first). <c>XenProf.Fuzz PARSER --replay FILE|DIR…</c> runs the harness once per
/// file and prints each outcome (to reproduce a finding); <c>XenProf.Fuzz PARSER --mutate DIR N [SEED]</c> runs the seed
/// corpus plus N random mutations in-process, without afl, and prints the execution count and any finding (the inputs of
/// findings are written to the directory <c>XENPROF_FUZZ_FINDINGS</c> names, when set).
/// Exit codes: 0 no finding, 1 a finding (an exception other than <see cref="MalformedDataException"/>), 2 bad usage.
/// </summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Harnesses.All.TryGetValue(args[0], out var harness))
        {
            Console.Error.WriteLine($"usage: XenProf.Fuzz PARSER [--replay FILE|DIR... | --mutate CORPUS_DIR EXECS [SEED]]; PARSER is one of {string.Join(", ", Harnesses.All.Keys)}");
            return 2;
        }
        if (args.Length == 1)
        {
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                var ms = new MemoryStream();
                stream.CopyTo(ms);
                try { harness(ms.ToArray()); }
                catch (MalformedDataException) { } // the expected answer to bad input
            });
            return 0;
        }
        if (args[1] == "--replay")
        {
            int findings = 0;
            foreach (var file in args.Skip(2).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
            {
                var outcome = Mutator.RunOne(harness, File.ReadAllBytes(file));
                if (outcome is { Expected: false }) findings++;
                Console.WriteLine($"{file}: {outcome?.Exception.GetType().Name ?? "ok"}{(outcome == null ? "" : ": " + outcome.Exception.Message)}");
                if (outcome is { Expected: false }) Console.WriteLine(outcome.Exception);
            }
            return findings == 0 ? 0 : 1;
        }
        if (args[1] == "--mutate" && args.Length >= 4 && int.TryParse(args[3], out var execs))
        {
            int seed = args.Length > 4 && int.TryParse(args[4], out var s) ? s : 1;
            var seeds = Directory.Exists(args[2]) ? Directory.GetFiles(args[2]).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList() : [];
            var report = Mutator.Run(harness, seeds, execs, seed);
            Console.WriteLine($"{args[0]}: {report.Executions} executions, {report.Malformed} rejected as malformed, {report.Findings.Count} findings");
            foreach (var f in report.Findings.Take(5)) Console.WriteLine($"finding: {f.Exception.GetType().Name}: {f.Exception.Message}\n{f.Exception.StackTrace}");
            if (report.Findings.Count > 0 && Environment.GetEnvironmentVariable("XENPROF_FUZZ_FINDINGS") is { Length: > 0 } keep)
            {
                Directory.CreateDirectory(keep);
                for (int i = 0; i < report.Findings.Count; i++) File.WriteAllBytes(Path.Combine(keep, $"{args[0]}-{i}"), report.Findings[i].Input);
            }
            return report.Findings.Count == 0 ? 0 : 1;
        }
        Console.Error.WriteLine("usage: XenProf.Fuzz PARSER [--replay FILE|DIR... | --mutate CORPUS_DIR EXECS [SEED]]");
        return 2;
    }
}
