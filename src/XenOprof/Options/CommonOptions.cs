using System.CommandLine;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Options;

/// <summary>Options shared by several verbs, spelled as oprofile spells them.</summary>
internal static class CommonOptions
{
    /// <summary>Default session directory, as operf's <c>./oprofile_data</c>.</summary>
    public const string DefaultSessionDir = "./xenoprof_data";

    /// <summary><c>--session-dir=DIR</c>.</summary>
    public static Option<string> SessionDir() => new("--session-dir")
    {
        Description = $"Session directory holding the sample store and daemon socket (default {DefaultSessionDir})",
        DefaultValueFactory = _ => DefaultSessionDir,
    };

    /// <summary><c>--group=NAME</c>: let this group read the session (default: private to its owner).</summary>
    public static Option<string?> Group() => new("--group")
    {
        Description = "Let this group read the session directory (default: private, 0700 with files 0600)",
        HelpName = "NAME",
    };

    /// <summary>The session directory <paramref name="path"/>, readable by <paramref name="group"/> when given; sets this process's umask to match.</summary>
    public static SessionDirectory Session(string path, string? group)
    {
        SessionPrivacy.ApplyUmask(group);
        return new SessionDirectory(path) { Group = group };
    }

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

    /// <summary><c>--demangle=none|normal|smart|full</c>, after opreport's option: how C++ and Rust symbol names are shown.</summary>
    public static Option<string> Demangle() => new("--demangle", "-D")
    {
        Description = "Symbol names: none (raw), normal (as perf report prints them: C++ without parameters, Rust without hash; the default), smart (normal, shortened as oprofile's smart: std:: and default template arguments dropped) or full (complete C++ signatures, as oprofile's normal and perf report -v)",
        DefaultValueFactory = _ => "normal",
    };

    /// <summary>Applies a <c>--demangle=</c> value to every symbolizer the verb creates; a bad value is a user error.</summary>
    public static XenProf.Reporter.Symbols.DemangleStyle ApplyDemangle(string? value)
    {
        try { return XenProf.Reporter.Symbols.SymbolizerOptions.DefaultDemangle = XenProf.Reporter.Symbols.Demangler.ParseStyle(value ?? "normal"); }
        catch (ArgumentException e) { throw new XenProf.Cli.UserErrorException(e.Message); }
    }

    /// <summary>Runs <paramref name="run"/> after <see cref="ApplyDemangle"/>.</summary>
    public static T WithDemangle<T>(string? value, Func<T> run)
    {
        ApplyDemangle(value);
        return run();
    }

    /// <summary><c>--separate=none|lib|kernel|thread|cpu|all</c> (comma-separated), as opcontrol(1) spells it; <c>-p</c> too unless <paramref name="shortAlias"/> is false.</summary>
    public static Option<string?> Separate(string description, bool shortAlias = true)
    {
        var o = new Option<string?>("--separate") { Description = description, HelpName = "none|lib|kernel|thread|cpu|all" };
        if (shortAlias) o.Aliases.Add("-p"); // opcontrol's -p; opreport's -p is oprofile's --image-path
        return o;
    }

    /// <summary>Checks a <c>--separate</c> value (a user error names it and the values allowed) and returns it unchanged.</summary>
    public static string? CheckSeparate(string? value)
    {
        if (value != null) XenProf.Reporter.Profile.Separations.Parse(value);
        return value;
    }

    /// <summary><c>--strict</c>: an import stops at the first record that does not parse instead of skipping and counting it.</summary>
    public static Option<bool> Strict() => new("--strict")
    {
        Description = "Stop at the first line or record of the trace that does not parse (exit 1, naming the file and line or offset); default: skip it, count it, and say so",
    };

    /// <summary>Optional trace file for verbs that report straight from a trace file (perf.data, perf script text, .nettrace), imported into a cached session beside it.</summary>
    public static Argument<string?> TraceFile() => new("file")
    {
        Description = "Trace to report on directly: perf.data, perf script text or .nettrace (imported into FILE.xenoprof/ and reused while the file is unchanged), or session:NAME for a session saved with opcontrol --save=NAME; default: the session in --session-dir",
        Arity = ArgumentArity.ZeroOrOne,
    };
}
