using System.Globalization;
using System.Text;
using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>
/// Renders a <see cref="CallGraph"/> in the layout of oprofile's <c>opreport --callgraph</c> (oprofile manual,
/// "Callgraph output", doc/oprofile.xml section opreport-callgraph): one block per function, blocks separated by a line
/// of dashes. In a block the callers are indented two spaces above the unindented primary line, and the primary's own
/// samples (<c>[self]</c>) and its callees are indented two spaces below it. Columns are the flat report's
/// (<see cref="OpreportWriter"/>): per event samples, percent and, unless disabled, the ± binomial standard error;
/// then image and symbol name.
/// </summary>
/// <remarks>
/// What the numbers mean (see <see cref="CallGraph"/> for how samples are counted):
/// <list type="bullet">
/// <item>primary: samples with the function on the stack (inclusive), percent of all samples of the event;</item>
/// <item>callers: samples in which that caller called the primary directly, percent of the sum over the primary's
/// callers (the oprofile manual: "relative to all other callers of the function we're focussing on");</item>
/// <item><c>[self]</c> and callees: samples with the primary as leaf, and samples in which the primary called that
/// callee directly, percent of the primary's inclusive samples, which is what [self] and the callees add up to (the
/// manual: "the percentage becomes relative to all callees").</item>
/// </list>
/// Unlike oprofile, whose primary line is the function's flat (self) count, the primary line here is inclusive, and
/// a self-recursive call is not listed among the function's own callees. With <see cref="OpreportOptions.GlobalPercent"/>
/// every percentage is of the event's total. <see cref="OpreportOptions.Threshold"/> applies
/// to primaries (inclusive percent); callers and callees of a shown primary are all listed.
/// </remarks>
public static class CallgraphWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The line that ends each block: 79 dashes, as in the oprofile manual's example.</summary>
    public static readonly string Separator = new('-', 79);

    /// <summary>Marker appended to the symbol of the primary's own-samples line.</summary>
    public const string SelfMarker = " [self]";

    /// <summary>Writes the header (unless <see cref="OpreportOptions.NoHeader"/>) and the callgraph blocks of <paramref name="p"/>,
    /// which must be built with <see cref="ProfileOptions.WithStacks"/>.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        if (!o.NoHeader) OpreportWriter.WriteHeader(p, w);
        var head = new StringBuilder();
        foreach (var _ in p.Events)
        {
            head.Append("samples".PadRight(9)).Append("%".PadRight(9));
            if (o.ErrorBars) head.Append("±".PadRight(9));
        }
        head.Append("image name".PadRight(25)).Append("symbol name");
        w.WriteLine(head.ToString());
        w.WriteLine(Separator);

        int block = 0;
        foreach (var r in CallgraphRows.Of(p, o))
        {
            if (r.Block != block && block != 0) w.WriteLine(Separator);
            block = r.Block;
            Line(w, o, p, r.Relation == CallgraphRelation.Primary ? "" : "  ", r, r.Relation == CallgraphRelation.Self ? SelfMarker : "");
        }
        if (block != 0) w.WriteLine(Separator);
    }

    private static void Line(TextWriter w, OpreportOptions o, Profile.Profile p, string indent, CallgraphRow r, string marker)
    {
        var line = new StringBuilder(indent);
        for (int i = 0; i < r.Samples.Length; i++)
        {
            var (pct, err) = r.Share(p, i);
            line.Append(r.Samples[i].ToString(Inv).PadRight(9)).Append(OpreportWriter.Pct(pct).PadRight(9));
            if (o.ErrorBars) line.Append(OpreportWriter.Pct(err).PadRight(9));
        }
        var f = r.Function;
        var image = o.LongFilenames ? f.Image.Path : f.ImageName;
        line.Append(image.PadRight(24)).Append(' ').Append(f.Symbol).Append(marker);
        w.WriteLine(line.ToString());
    }
}
