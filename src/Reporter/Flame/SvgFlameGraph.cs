using XenProf.Reporter.Profile;
using System.Globalization;
using System.Runtime.CompilerServices;
using XenProf.Reporter.Flame.FlameInternal;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Renders a <see cref="FlameTree"/> as a self-contained interactive SVG flame graph (inline style and script, no
/// network access), to be opened directly in a browser.
/// </summary>
/// <remarks>
/// <para>Layout: every drawn node is one bar; x and width are proportional to the node's position and
/// <see cref="FlameNode.Total"/> within the root (the root spans <c>Width - 20</c> px starting at x = 10), one row
/// per depth, <see cref="SvgFlameOptions.FrameHeight"/> px apart; the root row is at the bottom, or at the top when
/// <see cref="SvgFlameOptions.Inverted"/>. Within its parent's span a node's own (self) samples come first and its
/// children follow, left to right in tree order, as flamegraph.pl draws them. A node narrower than <see cref="SvgFlameOptions.MinWidthPx"/>, or with a
/// zero count, is not drawn, nor are its descendants. The synthetic root <c>all</c> is drawn.</para>
/// <para>Document shape (what tests and tools may rely on): <c>&lt;g id="frames"&gt;</c> holds one
/// <c>&lt;g class="frame"&gt;</c> per drawn node, in depth-first pre-order, each holding <c>&lt;title&gt;</c>
/// (<c>name (N samples, P%)</c>, N with thousands separators, P with two decimals), <c>&lt;rect&gt;</c> (x, y, width,
/// height, fill) and <c>&lt;text&gt;</c> (the name, cut to fit and ended with <c>..</c>, or empty). Other ids:
/// <c>title</c>, <c>subtitle</c>, <c>details</c> (hover line), <c>unzoom</c>, <c>search</c>, <c>matched</c>.</para>
/// <para>Interaction: hover shows the title in the details line (and as a tooltip); a click zooms into a frame (its
/// ancestors stay, dimmed, the rest hides); Reset Zoom or a click on <c>all</c> undoes it; Search or Ctrl-F prompts for
/// a regular expression (<c>/re/i</c> for case-insensitive), highlights matches and shows the matched share of samples,
/// not counting a match nested inside another match twice; clicking Search again or Escape clears it.</para>
/// <para>Colours: a hue family per <see cref="FrameKind"/> (user and process warm red–yellow, kernel blue,
/// hypervisor violet, JIT green, guest pink, unknown grey), the shade a hash of the name: deterministic.</para>
/// <para>Output is streamed node by node; the tree is walked twice (layout height, then output).</para>
/// </remarks>
public static class SvgFlameGraph
{
    private const double XPad = 10;

    /// <summary>Merges <paramref name="stacks"/> (alphabetical order) and renders them; see <see cref="Write(FlameTree, TextWriter, SvgFlameOptions?, IFlameFrameStyle?)"/>.</summary>
    /// <param name="stacks">Stacks to merge.</param>
    /// <param name="output">Destination; not flushed or closed.</param>
    /// <param name="options">Rendering options; null means <see cref="SvgFlameOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static void Write(IEnumerable<FlameStack> stacks, TextWriter output, SvgFlameOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stacks);
        Write(FlameTree.Build(stacks), output, options);
    }

    /// <summary>Renders <paramref name="tree"/> as an SVG document (UTF-8 declared) to <paramref name="output"/>.</summary>
    /// <param name="tree">The tree; children are drawn left to right in the tree's order.</param>
    /// <param name="output">Destination; not flushed or closed. Should encode UTF-8 (the XML declaration says so).</param>
    /// <param name="options">Rendering options; null means <see cref="SvgFlameOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tree"/> or <paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// Width ≤ 20, FrameHeight &lt; 2, FontSize ≤ 0, or MinWidthPx negative or not finite.
    /// </exception>
    /// <param name="style">Frame colours and tooltip notes; null means the palette by frame kind and no note.</param>
    public static void Write(FlameTree tree, TextWriter output, SvgFlameOptions? options = null, IFlameFrameStyle? style = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(output);
        options ??= SvgFlameOptions.Default;
        Validate(options);

        var layout = new Layout(tree, options);
        WriteHeader(output, options, layout);
        WriteFrames(output, tree, options, layout, style);
        output.Write("</g>\n");

        // The script comes last so that every element it looks up already exists when it runs.
        output.Write("<script type=\"text/ecmascript\"><![CDATA[\n");
        output.Write(SvgScript.Script);
        output.Write("\n]]></script>\n</svg>\n");
    }

    /// <summary>Number of <c>g.frame</c> elements <see cref="Write(FlameTree, TextWriter, SvgFlameOptions?, IFlameFrameStyle?)"/> draws for these options.</summary>
    /// <param name="tree">The tree.</param>
    /// <param name="options">Rendering options; null means defaults.</param>
    /// <returns>Nodes with a non-zero count at least <see cref="SvgFlameOptions.MinWidthPx"/> wide (their ancestors are too).</returns>
    public static int CountDrawnFrames(FlameTree tree, SvgFlameOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        options ??= SvgFlameOptions.Default;
        Validate(options);
        return new Layout(tree, options).DrawnFrames;
    }

    private static void Validate(SvgFlameOptions o)
    {
        if (o.Width <= 2 * XPad)
        {
            throw new ArgumentOutOfRangeException(nameof(o.Width), o.Width, "Width must be more than 20 pixels.");
        }

        if (o.FrameHeight < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(o.FrameHeight), o.FrameHeight, "FrameHeight must be at least 2 pixels.");
        }

        if (!(o.FontSize > 0) || !double.IsFinite(o.FontSize))
        {
            throw new ArgumentOutOfRangeException(nameof(o.FontSize), o.FontSize, "FontSize must be a positive number.");
        }

        if (!(o.MinWidthPx >= 0) || !double.IsFinite(o.MinWidthPx))
        {
            throw new ArgumentOutOfRangeException(nameof(o.MinWidthPx), o.MinWidthPx, "MinWidthPx must be zero or more.");
        }
    }

    /// <summary>Geometry shared by the header and the frames: scale, visible depth, rows.</summary>
    private sealed class Layout
    {
        public Layout(FlameTree tree, SvgFlameOptions o)
        {
            Scale = tree.Total > 0 ? (o.Width - 2 * XPad) / tree.Total : 0;
            MinWidth = o.MinWidthPx;
            int deepest = -1, drawn = 0;
            if (IsDrawn(tree.Root))
            {
                var pending = new Stack<FlameNode>();
                pending.Push(tree.Root);
                while (pending.Count > 0)
                {
                    var node = pending.Pop();
                    drawn++;
                    deepest = Math.Max(deepest, node.Depth);
                    foreach (var child in node.Children)
                    {
                        if (IsDrawn(child))
                        {
                            pending.Push(child);
                        }
                    }
                }
            }

            DrawnFrames = drawn;
            Rows = Math.Max(deepest + 1, 1);
            double fs = o.FontSize;
            Top = fs * 3 + (string.IsNullOrEmpty(o.Subtitle) ? 0 : fs * 1.5);
            Bottom = fs * 2 + 10;
            Height = Math.Ceiling(Top + Rows * o.FrameHeight + Bottom);
            Inverted = o.Inverted;
            RowHeight = o.FrameHeight;
        }

        public double Scale { get; }
        public double MinWidth { get; }
        public int DrawnFrames { get; }
        public int Rows { get; }
        public double Top { get; }
        public double Bottom { get; }
        public double Height { get; }
        public bool Inverted { get; }
        public int RowHeight { get; }

        public bool IsDrawn(FlameNode node)
        {
            if (node.Total <= 0)
            {
                return false;
            }

            return node.Total * Scale >= MinWidth;
        }

        /// <summary>Top edge of the bar at <paramref name="depth"/>.</summary>
        public double RowY(int depth) => Inverted
            ? Top + depth * RowHeight
            : Height - Bottom - (depth + 1) * RowHeight + 1;
    }

    private static void WriteHeader(TextWriter w, SvgFlameOptions o, Layout layout)
    {
        var inv = CultureInfo.InvariantCulture;
        string width = o.Width.ToString(inv);
        string height = layout.Height.ToString(inv);
        w.Write("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
        w.Write($"<svg version=\"1.1\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        w.Write("<!-- XenProf flame graph: hover for details, click to zoom, Ctrl-F to search. -->\n");
        w.Write("<defs>\n<linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">\n");
        w.Write("<stop stop-color=\"#f4f4f8\" offset=\"5%\"/>\n<stop stop-color=\"#e4e4ee\" offset=\"95%\"/>\n</linearGradient>\n</defs>\n");
        w.Write("<style type=\"text/css\"><![CDATA[\n");
        w.Write(SvgScript.Style);
        w.Write($"#frames text {{ font-size: {Num(o.FontSize)}px; }}\n");
        w.Write("]]></style>\n");
        w.Write($"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"url(#background)\"/>\n");

        double center = o.Width / 2.0;
        w.Write($"<text id=\"title\" x=\"{Num(center)}\" y=\"{Num(o.FontSize * 2)}\">");
        SvgText.WriteEscaped(w, o.Title ?? string.Empty);
        w.Write("</text>\n");
        if (!string.IsNullOrEmpty(o.Subtitle))
        {
            w.Write($"<text id=\"subtitle\" x=\"{Num(center)}\" y=\"{Num(o.FontSize * 3.5)}\">");
            SvgText.WriteEscaped(w, o.Subtitle);
            w.Write("</text>\n");
        }

        double bottomLine = layout.Height - o.FontSize;
        w.Write($"<text id=\"details\" x=\"{Num(XPad)}\" y=\"{Num(bottomLine)}\"> </text>\n");
        w.Write($"<text id=\"unzoom\" class=\"hide\" x=\"{Num(XPad)}\" y=\"{Num(o.FontSize * 2)}\">Reset Zoom</text>\n");
        w.Write($"<text id=\"search\" x=\"{Num(o.Width - XPad)}\" y=\"{Num(o.FontSize * 2)}\" text-anchor=\"end\">Search</text>\n");
        w.Write($"<text id=\"matched\" x=\"{Num(o.Width - XPad)}\" y=\"{Num(bottomLine)}\" text-anchor=\"end\"> </text>\n");
        w.Write($"<g id=\"frames\" data-xpad=\"{Num(XPad)}\" data-width=\"{width}\" data-row-height=\"{o.FrameHeight.ToString(inv)}\"");
        w.Write($" data-root-y=\"{Num(layout.RowY(0))}\" data-inverted=\"{(o.Inverted ? "true" : "false")}\"");
        w.Write($" data-font-size=\"{Num(o.FontSize)}\" data-font-width=\"{Num(SvgText.FontWidth)}\" data-label-pad=\"{Num(SvgText.LabelPad)}\">\n");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteFrames(TextWriter w, FlameTree tree, SvgFlameOptions o, Layout layout, IFlameFrameStyle? style)
    {
        if (!layout.IsDrawn(tree.Root))
        {
            return;
        }

        string countName = o.CountName ?? string.Empty;
        double barHeight = o.FrameHeight - 1;
        double labelDy = barHeight / 2 + o.FontSize * 0.35;
        double total = tree.Total;
        var pending = new Stack<(FlameNode Node, long Offset)>();
        pending.Push((tree.Root, 0));
        while (pending.Count > 0)
        {
            var (node, offset) = pending.Pop();
            double x = XPad + offset * layout.Scale;
            double width = node.Total * layout.Scale;
            double y = layout.RowY(node.Depth);

            w.Write("<g class=\"frame\"><title>");
            SvgText.WriteEscaped(w, node.Name);
            w.Write(" (");
            SvgText.WriteGrouped(w, node.Total);
            w.Write(' ');
            SvgText.WriteEscaped(w, countName);
            w.Write(", ");
            SvgText.WritePercent(w, node.Total * 100.0 / total);
            w.Write('%');
            if (style?.Note(node) is { } note)
            {
                w.Write("; ");
                SvgText.WriteEscaped(w, note);
            }

            w.Write(")</title><rect x=\"");
            SvgText.WriteNumber(w, x);
            w.Write("\" y=\"");
            SvgText.WriteNumber(w, y);
            w.Write("\" width=\"");
            SvgText.WriteNumber(w, width);
            w.Write("\" height=\"");
            SvgText.WriteNumber(w, barHeight);
            var (r, g, b) = style?.Fill(node) ?? FlamePalette.Color(node.Frame, node.Parent is null);
            w.Write("\" fill=\"rgb(");
            w.Write(Byte(r));
            w.Write(',');
            w.Write(Byte(g));
            w.Write(',');
            w.Write(Byte(b));
            w.Write(")\" rx=\"2\" ry=\"2\"/><text x=\"");
            SvgText.WriteNumber(w, x + SvgText.LabelPad);
            w.Write("\" y=\"");
            SvgText.WriteNumber(w, y + labelDy);
            w.Write("\">");
            SvgText.WriteEscaped(w, SvgText.FitLabel(node.Name, width, o.FontSize));
            w.Write("</text></g>\n");

            // Self samples sit at the left, children after them (flamegraph.pl's placement: in sorted folded text the
            // line "a;b N" precedes "a;b;c M"). Push children right to left so they come out left to right.
            var children = node.Children;
            long childOffset = offset + node.Total;
            for (int i = children.Count - 1; i >= 0; i--)
            {
                var child = children[i];
                childOffset -= child.Total;
                if (layout.IsDrawn(child))
                {
                    pending.Push((child, childOffset));
                }
            }
        }
    }

    private static readonly string[] ByteText = Enumerable.Range(0, 256).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private static string Byte(byte value) => ByteText[value];

    private static string Num(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>
/// The colour hook of <see cref="SvgFlameGraph"/>: decides each drawn frame's fill and an optional note for its tooltip
/// (a differential flame graph colours by change, <see cref="DiffFlameGraph"/>).
/// </summary>
public interface IFlameFrameStyle
{
    /// <summary>The fill of <paramref name="node"/>'s bar, or null for the default palette (by frame kind).</summary>
    (byte R, byte G, byte B)? Fill(FlameNode node);

    /// <summary>Text appended to the tooltip after the percentage, <c>name (N samples, P%; NOTE)</c>, or null for none.</summary>
    string? Note(FlameNode node);
}
