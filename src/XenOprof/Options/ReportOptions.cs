using System.CommandLine;

namespace XenProf.Cli.Options;

/// <summary>Options shared by the report verbs (<c>opreport</c> and its differential form <c>diff</c>), spelled as opreport spells them.</summary>
internal static class ReportOptions
{
    /// <summary><c>-l/--symbols</c>.</summary>
    public static Option<bool> Symbols() => new("--symbols", "-l") { Description = "List per symbol instead of per image" };

    /// <summary><c>-t/--threshold=P</c>.</summary>
    public static Option<double> Threshold() => new("--threshold", "-t") { Description = "Only show rows at or above this percentage of the total (differential reports: of either profile's total)" };

    /// <summary><c>-f/--long-filenames</c>.</summary>
    public static Option<bool> LongFilenames() => new("--long-filenames", "-f") { Description = "Show full image paths" };

    /// <summary><c>-n/--no-header</c>.</summary>
    public static Option<bool> NoHeader() => new("--no-header", "-n") { Description = "Omit the header lines" };

    /// <summary><c>--no-recovery</c>.</summary>
    public static Option<bool> NoRecovery() => new("--no-recovery") { Description = "Do not recover functions in stripped code (.eh_frame, PLT, call targets): unresolved samples stay '(no symbols)', as perf shows them" };

    /// <summary><c>--alpha=A</c>: the family-wise significance level of a differential report.</summary>
    public static Option<double> Alpha() => new("--alpha")
    {
        Description = "Differential reports: family-wise significance level. Each row is tested with a pooled two-proportion z-test on the two profiles' totals; a row is marked * when Holm-Bonferroni over all rows of the event rejects it at this level",
        DefaultValueFactory = _ => 0.001,
    };
}
