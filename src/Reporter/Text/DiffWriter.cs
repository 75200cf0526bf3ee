using System.Globalization;
using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>Options of <see cref="DiffWriter"/> and <see cref="Csv.DiffCsvWriter"/>.</summary>
public sealed record DiffReportOptions
{
    /// <summary>How the base profile was named on the command line (shown in the header).</summary>
    public string BaseName { get; init; } = "base";

    /// <summary>How the new profile was named on the command line (shown in the header).</summary>
    public string NewName { get; init; } = "new";

    /// <summary>Show only rows at or above this percentage of the total on either side (opreport <c>--threshold</c>); 0 shows all.</summary>
    public double Threshold { get; init; }

    /// <summary>Omit the header lines (opreport <c>--no-header</c>).</summary>
    public bool NoHeader { get; init; }
}

/// <summary>
/// Writes a <see cref="ProfileDiff"/> in the spirit of opreport's text layout (oprofile's opreport(1), which prints two
/// profiles' samples and percentages side by side for <c>{ A } { B }</c>): a header naming the two sources, the test
/// and the significance rule and each event's totals, then per event one row per image or symbol, largest change first:
/// base samples and %, new samples and %, the change in percentage points, the uncorrected p-value, <c>*</c> when
/// significant, image name and symbol name.
/// </summary>
public static class DiffWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The header line that states the test and the significance rule.</summary>
    public static string TestLine(ProfileDiff d) =>
        $"Test: pooled two-proportion z-test per row on the two totals (two-sided p-value); * = significant after Holm-Bonferroni over each event's rows at family-wise alpha {d.Options.Alpha.ToString("G", Inv)}";

    /// <summary>Writes the report to <paramref name="w"/>.</summary>
    public static void Write(ProfileDiff d, TextWriter w, DiffReportOptions o)
    {
        if (!o.NoHeader)
        {
            w.WriteLine($"Differential profile: base {{ {o.BaseName} }}, new {{ {o.NewName} }}");
            w.WriteLine(TestLine(d));
            foreach (var e in d.Events)
                w.WriteLine($"Counted {e.Name} events: base {e.BaseTotal} samples (count {e.Base.Count}), new {e.NewTotal} samples (count {e.New.Count}); {e.Rows.Count(r => r.Significant)} of {e.Rows.Count} rows significant");
            foreach (var name in d.BaseOnlyEvents) w.WriteLine($"Event {name} is in the base profile only: not compared");
            foreach (var name in d.NewOnlyEvents) w.WriteLine($"Event {name} is in the new profile only: not compared");
        }
        foreach (var e in d.Events)
        {
            if (d.Events.Count > 1) w.WriteLine($"==== {e.Name} ====");
            w.WriteLine("base".PadRight(18) + "new".PadRight(18));
            w.WriteLine("samples".PadRight(9) + "%".PadRight(9) + "samples".PadRight(9) + "%".PadRight(9) + "diff pp".PadRight(10) + "p-value".PadRight(13)
                + "image name".PadRight(25) + (d.Options.Symbols ? "symbol name" : ""));
            foreach (var r in Shown(e, o))
            {
                var line = new System.Text.StringBuilder();
                line.Append(r.BaseSamples.ToString(Inv).PadRight(9)).Append(OpreportWriter.Pct(r.BasePercent).PadRight(9));
                line.Append(r.NewSamples.ToString(Inv).PadRight(9)).Append(OpreportWriter.Pct(r.NewPercent).PadRight(9));
                line.Append(Delta(r.DeltaPp).PadRight(10)).Append(Marked(r.PValue, r.Significant));
                if (r.Symbol != null) line.Append(r.Image.PadRight(24)).Append(' ').Append(r.Symbol);
                else line.Append(r.Image);
                w.WriteLine(line.ToString());
            }
            if (d.Events.Count > 1) w.WriteLine();
        }
    }

    /// <summary>The rows shown: those at or above <see cref="DiffReportOptions.Threshold"/> percent on either side.</summary>
    public static IEnumerable<DiffRow> Shown(DiffEvent e, DiffReportOptions o) =>
        o.Threshold <= 0 ? e.Rows : e.Rows.Where(r => r.BasePercent >= o.Threshold || r.NewPercent >= o.Threshold);

    /// <summary>A change in percentage points: sign always shown, 4 decimals (<c>+12.3400</c>).</summary>
    public static string Delta(double pp) => (pp >= 0 ? "+" : "") + pp.ToString("0.0000", Inv);

    /// <summary>The p-value column, 13 characters wide: the p-value, then <c> *</c> when significant, then at least one
    /// space, so the mark always follows its value by exactly one space however long the value is.</summary>
    public static string Marked(double p, bool significant) => (PValue(p) + (significant ? " *" : "")).PadRight(12) + " ";

    /// <summary>A p-value: 4 significant digits (<c>0.8921</c>, <c>1.7E-24</c>), <c>1</c> for 1.</summary>
    public static string PValue(double p) => p.ToString("G4", Inv);
}
