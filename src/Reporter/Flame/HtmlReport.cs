using XenProf.Reporter.Profile;
using System.Globalization;
using System.Net;
using System.Text;

namespace XenProf.Reporter.Flame;

/// <summary>
/// One self-contained HTML page of a session, with no network access needed: the opreport tables (per image
/// and per symbol, percentages with their sampling error drawn as error bars), the interactive flame graph
/// inline, and a per-domain sample timeline drawn as inline SVG. Everything, script and style included, is in the file.
/// </summary>
public static class HtmlReport
{
    /// <summary>How many symbol rows the page lists at most.</summary>
    public const int MaxSymbolRows = 200;

    /// <summary>Writes the page for the selected samples of one event (the selection's, else the first).</summary>
    public static void Write(FlameSource source, Stream output, FlameExportOptions? options = null)
    {
        options ??= FlameExportOptions.Default;
        var sel = options.Selection;
        var ev = source.PickEvent(sel.Event);
        var weight = options.Weight;
        var (images, symbols, total) = source.Summaries(sel, weight);
        var stacks = source.FlameStacks(sel, weight);
        var svgOptions = FlameExport.WithSubtitle(source, options.Svg, sel, weight);
        var svg = new StringWriter(CultureInfo.InvariantCulture);
        SvgFlameGraph.Write(stacks, svg, svgOptions);
        string svgText = svg.ToString();
        int start = svgText.IndexOf("<svg", StringComparison.Ordinal);
        svgText = svgText[start..];

        using var w = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        string title = Enc(options.Svg.Title == SvgFlameOptions.Default.Title ? "XenProf report" : options.Svg.Title);
        w.Write($"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>\n{Css}</style></head>\n<body>\n");
        w.Write($"<h1>{title}</h1>\n<p class=\"facts\">Event <b>{Enc(ev.Name)}</b> (count {ev.Count}, unit {Enc(ev.Unit)}), <b id=\"total\">{total.Samples}</b> samples"
            + (weight == FoldedWeight.Period ? $", period {total.Period} {EventPeriod.Of(ev).CountName}; shares are of the period, errors on n_eff = (Σperiod)²/Σperiod² = {F(total.EffectiveSamples, 1)} samples" : ""));
        foreach (var key in new[] { "hostname", "kernel", "cpu", "source", "target" })
            if (source.Meta.TryGetValue(key, out var v)) w.Write($"; {key} {Enc(v)}");
        w.Write(".</p>\n");

        w.Write("<h2>Images</h2>\n");
        Table(w, "images", images, total, weight, withSymbol: false);
        w.Write($"<h2>Symbols</h2>\n");
        Table(w, "symbols", symbols.Take(MaxSymbolRows).ToList(), total, weight, withSymbol: true);
        if (symbols.Count > MaxSymbolRows) w.Write($"<p class=\"facts\">{symbols.Count - MaxSymbolRows} more symbols not listed.</p>\n");

        w.Write("<h2>Flame graph</h2>\n<div id=\"flamegraph\">\n");
        w.Write(svgText);
        w.Write("</div>\n<h2>Samples over time per domain</h2>\n");
        Timeline(w, source.Timeline(sel));
        w.Write("</body></html>\n");
    }

    private static void Table(StreamWriter w, string id, IReadOnlyList<SummaryRow> rows, SummaryTotal total, FoldedWeight weight, bool withSymbol)
    {
        w.Write($"<table id=\"{id}\"><thead><tr><th>samples</th><th>%</th><th>± error</th><th class=\"barcol\"></th><th>image name</th>");
        if (withSymbol) w.Write("<th>symbol name</th>");
        w.Write("</tr></thead><tbody>\n");
        double scale = 1e-9;
        foreach (var r in rows) { var (p, e) = total.Share(r, weight); scale = Math.Max(scale, p + e); }
        foreach (var r in rows)
        {
            var (pct, err) = total.Share(r, weight);
            // The bar column spans 0 to the largest share plus its error, so every error bar fits inside it.
            double bar = 100 * pct / scale, lo = 100 * Math.Max(0, pct - err) / scale, hi = 100 * Math.Min(100, pct + err) / scale;
            w.Write($"<tr><td>{r.Samples}</td><td>{F(pct, 4)}</td><td>{F(err, 4)}</td>");
            w.Write($"<td class=\"barcol\"><div class=\"bar\" style=\"width:{F(bar, 2)}%\"></div><div class=\"err\" style=\"left:{F(lo, 2)}%;width:{F(Math.Max(0.2, hi - lo), 2)}%\"></div></td>");
            w.Write($"<td>{Enc(r.Image)}</td>");
            if (withSymbol) w.Write($"<td>{Enc(r.Symbol ?? "")}</td>");
            w.Write("</tr>\n");
        }
        w.Write("</tbody></table>\n");
    }

    private static void Timeline(StreamWriter w, IReadOnlyList<DomainTimeline> domains)
    {
        const int W = 1200, H = 260, L = 60, R = 180, T = 10, B = 40;
        long max = Math.Max(1, domains.SelectMany(d => d.Counts).DefaultIfEmpty(0).Max());
        int n = domains.Count == 0 ? 1 : domains[0].Counts.Length;
        double span = domains.Count == 0 ? 0 : n * domains[0].BucketNs / 1e9;
        w.Write($"<svg id=\"timeline\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">\n");
        w.Write($"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{H - T - B}\" fill=\"#fafafa\" stroke=\"#999\"/>\n");
        w.Write($"<text x=\"{L - 4}\" y=\"{T + 10}\" text-anchor=\"end\">{max}</text><text x=\"{L - 4}\" y=\"{H - B}\" text-anchor=\"end\">0</text>\n");
        w.Write($"<text x=\"{L}\" y=\"{H - B + 16}\">0 s</text><text x=\"{W - R}\" y=\"{H - B + 16}\" text-anchor=\"end\">{F(span, 3)} s</text>\n");
        w.Write($"<text x=\"{(L + W - R) / 2}\" y=\"{H - 6}\" text-anchor=\"middle\">time since the first sample; samples per bucket</text>\n");
        string[] colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
        for (int di = 0; di < domains.Count; di++)
        {
            var d = domains[di];
            var pts = new StringBuilder();
            for (int i = 0; i < d.Counts.Length; i++)
            {
                double x = L + (W - L - R) * (i + 0.5) / d.Counts.Length;
                double y = H - B - (H - T - B) * (double)d.Counts[i] / max;
                pts.Append(F(x, 1)).Append(',').Append(F(y, 1)).Append(' ');
            }
            string c = colours[di % colours.Length];
            w.Write($"<polyline class=\"domain\" data-domain=\"{d.Domain}\" data-samples=\"{d.Counts.Sum()}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{pts.ToString().TrimEnd()}\"/>\n");
            w.Write($"<text x=\"{W - R + 10}\" y=\"{T + 16 + 18 * di}\" fill=\"{c}\">{Enc(d.Name)} (domain {d.Domain})</text>\n");
        }
        w.Write("</svg>\n");
    }

    private static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string Enc(string s) => WebUtility.HtmlEncode(s);

    private const string Css = """
body { font-family: sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
.facts { color: #444; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
th:nth-last-child(-n+2), td:nth-last-child(-n+2) { text-align: left; }
td.barcol, th.barcol { width: 200px; min-width: 200px; position: relative; }
div.bar { height: 10px; background: #e8833a; }
div.err { position: absolute; top: 7px; height: 2px; background: #333; }
#flamegraph { overflow-x: auto; }

""";
}
