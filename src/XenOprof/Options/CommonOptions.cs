using System.CommandLine;

namespace XenProf.Cli.Options;

/// <summary>Options shared by several verbs, spelled as oprofile spells them.</summary>
internal static class CommonOptions
{
    /// <summary>Default session directory, as operf's <c>./oprofile_data</c>.</summary>
    public const string DefaultSessionDir = "./xenoprof_data";

    /// <summary><c>--session-dir=DIR</c>.</summary>
    public static Option<string> SessionDir() => new("--session-dir", "-d")
    {
        Description = $"Session directory holding the sample store and daemon socket (default {DefaultSessionDir})",
        DefaultValueFactory = _ => DefaultSessionDir,
    };

    /// <summary><c>--event=NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]</c>, repeatable, comma-separated lists accepted.</summary>
    public static Option<string[]> Event() => new("--event", "-e")
    {
        Description = "Event to sample, NAME:COUNT[:UNITMASK[:KERNEL[:USER]]] (repeat or comma-separate for several; default: cycles where the PMU has them, else CPU_CLOCK:1000000)",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Splits repeated and comma-separated event options into single specs.</summary>
    public static IReadOnlyList<string> SplitEvents(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    /// <summary><c>--kallsyms=FILE</c>: kernel symbols of the machine a trace was recorded on.</summary>
    public static Option<string?> Kallsyms() => new("--kallsyms")
    {
        Description = "Kernel symbols (a copy of /proc/kallsyms) of the machine the trace was recorded on; default: this machine's when the trace was recorded here",
    };

    /// <summary><c>--strict</c>: an import stops at the first record that does not parse instead of skipping and counting it.</summary>
    public static Option<bool> Strict() => new("--strict")
    {
        Description = "Stop at the first line or record of the trace that does not parse (exit 1, naming the file and line or offset); default: skip it, count it, and say so",
    };

    /// <summary>Optional trace file for verbs that report straight from a trace file (perf.data, perf script text, .nettrace), imported into a cached session beside it.</summary>
    public static Argument<string?> TraceFile() => new("file")
    {
        Description = "Trace to report on directly: perf.data, perf script text or .nettrace (imported into FILE.xenoprof/ and reused while the file is unchanged); default: the session in --session-dir",
        Arity = ArgumentArity.ZeroOrOne,
    };
}
