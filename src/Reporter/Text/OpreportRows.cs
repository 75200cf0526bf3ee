using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>
/// Which rows an opreport-style report shows, shared by the CSV and XML writers so that every format lists the same
/// rows in the same order as <see cref="OpreportWriter"/>: the model's order (samples descending), minus the rows
/// <c>--threshold</c> hides.
/// </summary>
internal static class OpreportRows
{
    /// <summary>True when <paramref name="row"/> reaches <paramref name="threshold"/> percent of the total of at least one
    /// event (opreport <c>--threshold</c>); every row is shown when the threshold is 0 or less.</summary>
    public static bool Shown(Profile.Profile p, CountRow row, double threshold)
    {
        if (threshold <= 0) return true;
        for (int i = 0; i < p.Totals.Length; i++)
            if (p.Totals[i] > 0 && 100.0 * row.Samples[i] / p.Totals[i] >= threshold) return true;
        return false;
    }

    /// <summary>The image rows shown, in report order.</summary>
    public static IEnumerable<ImageRow> Images(Profile.Profile p, OpreportOptions o) => p.Images.Where(r => Shown(p, r.Counts, o.Threshold));

    /// <summary>The symbol rows shown, in report order.</summary>
    public static IEnumerable<SymbolRow> Symbols(Profile.Profile p, OpreportOptions o) => p.Symbols.Where(r => Shown(p, r.Counts, o.Threshold));

    /// <summary>The image name a report prints: the full path with <see cref="OpreportOptions.LongFilenames"/>, else the display name.</summary>
    public static string ImageName(ImageRow r, OpreportOptions o) => o.LongFilenames ? r.Image.Path : r.Name;

    /// <summary>The application a row is counted under (<see cref="Separation.Lib"/>), as <see cref="ImageName"/> prints
    /// images; the image's own name when applications are merged.</summary>
    public static string AppName(ImageRow r, OpreportOptions o) =>
        r.App == null ? ImageName(r, o) : o.LongFilenames ? r.App.Image.Path : r.App.Name;
}
