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
            if (p.PeriodTotals[i] > 0 && 100.0 * row.Period[i] / p.PeriodTotals[i] >= threshold) return true;
        return false;
    }

    /// <summary>The image rows shown, in report order.</summary>
    public static IEnumerable<ImageRow> Images(Profile.Profile p, OpreportOptions o) => p.Images.Where(r => Shown(p, r.Counts, o.Threshold));

    /// <summary>The symbol rows shown, in report order: the model's order, or <see cref="OpreportOptions.Sort"/>'s keys
    /// (then the other keys in <see cref="OpreportSort"/> order, as oprofile breaks ties), each comparison reversed with
    /// <see cref="OpreportOptions.ReverseSort"/>; a stable sort, so rows equal on every key keep the model's order.</summary>
    public static IEnumerable<SymbolRow> Symbols(Profile.Profile p, OpreportOptions o)
    {
        var shown = p.Symbols.Where(r => Shown(p, r.Counts, o.Threshold));
        if (o.Sort.Count == 0 && !o.ReverseSort) return shown;
        var keys = (o.Sort.Count == 0 ? [OpreportSort.Sample] : o.Sort).Concat(Enum.GetValues<OpreportSort>()).Distinct().ToList();
        int sign = o.ReverseSort ? -1 : 1;
        int Compare(SymbolRow a, SymbolRow b)
        {
            foreach (var k in keys)
            {
                int c = k switch
                {
                    OpreportSort.Vma => a.Start.CompareTo(b.Start),
                    OpreportSort.Sample => (b.Counts.Samples.Length > 0 ? b.Counts.Samples[0] : 0).CompareTo(a.Counts.Samples.Length > 0 ? a.Counts.Samples[0] : 0),
                    OpreportSort.Symbol => string.CompareOrdinal(a.Symbol, b.Symbol),
                    OpreportSort.Debug => CompareSource(a, b, o),
                    _ => string.CompareOrdinal(ImageName(a.ImageRow, o), ImageName(b.ImageRow, o)),
                };
                if (c != 0) return sign * c;
            }
            return 0;
        }
        return shown.Order(Comparer<SymbolRow>.Create(Compare)); // Order is a stable sort
    }

    private static int CompareSource(SymbolRow a, SymbolRow b, OpreportOptions o)
    {
        string fa = a.Source is { } sa ? SourceFile(sa.File, o) : "", fb = b.Source is { } sb ? SourceFile(sb.File, o) : "";
        int c = string.CompareOrdinal(fa, fb);
        return c != 0 ? c : (a.Source?.Line ?? 0).CompareTo(b.Source?.Line ?? 0);
    }

    private static string SourceFile(string file, OpreportOptions o) => o.LongFilenames ? file : Path.GetFileName(file);

    /// <summary>opreport <c>-g</c>'s <c>linenr info</c> of a symbol: <c>FILE:LINE</c> of its start (the file's basename, its
    /// path with <c>-f</c>), or <c>(no location information)</c>, as oprofile's libpp/format_output.cpp prints it.</summary>
    public static string LineInfo(SymbolRow r, OpreportOptions o) =>
        r.Source is { } s ? SourceFile(s.File, o) + ":" + s.Line.ToString(System.Globalization.CultureInfo.InvariantCulture) : "(no location information)";

    /// <summary>The image name a report prints: the full path with <see cref="OpreportOptions.LongFilenames"/>, else the display name.</summary>
    public static string ImageName(ImageRow r, OpreportOptions o) => o.LongFilenames ? r.Image.Path : r.Name;

    /// <summary>The application a row is counted under (<see cref="Separation.Lib"/>), as <see cref="ImageName"/> prints
    /// images; the image's own name when applications are merged.</summary>
    public static string AppName(ImageRow r, OpreportOptions o) =>
        r.App == null ? ImageName(r, o) : o.LongFilenames ? r.App.Image.Path : r.App.Name;
}
