using XenProf.Reporter.Profile;
using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using XenProf.Reporter.Flame;
using Xunit;
using static XenProf.Reporter.Tests.Flame.FlameTestData;

namespace XenProf.Reporter.Tests.Flame;

public class SvgFlameGraphTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    internal static string Render(FlameTree tree, SvgFlameOptions? options = null)
    {
        var sw = new StringWriter();
        SvgFlameGraph.Write(tree, sw, options);
        return sw.ToString();
    }

    internal sealed record DrawnFrame(string Title, string Name, long Count, double X, double Y, double Width, string Fill, string Label);

    internal static List<DrawnFrame> Frames(XDocument doc) =>
        doc.Descendants(Svg + "g")
            .Where(g => (string?)g.Attribute("class") == "frame")
            .Select(g =>
            {
                string title = g.Element(Svg + "title")!.Value;
                var rect = g.Element(Svg + "rect")!;
                int cut = title.LastIndexOf(" (", StringComparison.Ordinal);
                string count = title[(cut + 2)..].Split(' ')[0].Replace(",", "", StringComparison.Ordinal);
                return new DrawnFrame(
                    title, title[..cut], long.Parse(count, CultureInfo.InvariantCulture),
                    D(rect, "x"), D(rect, "y"), D(rect, "width"), (string)rect.Attribute("fill")!, g.Element(Svg + "text")!.Value);
            })
            .ToList();

    private static double D(XElement e, string name) => double.Parse((string)e.Attribute(name)!, CultureInfo.InvariantCulture);

    private static FlameTree JavaTree() =>
        FlameTree.Build(FoldedReader.Read(new StringReader(File.ReadAllText(DataPath("perf-java-stacks-01-collapsed-all.txt")))).ToList());

    [Fact]
    public void Is_well_formed_self_contained_svg()
    {
        string text = Render(FlameTree.Build(Small()), new SvgFlameOptions { Subtitle = "dom0 + domain1" });
        var doc = XDocument.Parse(text);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.NotNull(doc.Descendants(Svg + "script").SingleOrDefault());
        foreach (var id in new[] { "title", "subtitle", "details", "unzoom", "search", "matched", "frames" })
        {
            Assert.Single(doc.Descendants(), e => (string?)e.Attribute("id") == id);
        }

        Assert.DoesNotContain("http://www.w3.org/2000/svg\"", text.Replace("xmlns=\"http://www.w3.org/2000/svg\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("href", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" on", text.Split("<script")[0] + text.Split("</script>")[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(30.0)]
    [InlineData(400.0)]
    public void Draws_one_frame_per_node_at_least_MinWidthPx_wide(double minWidth)
    {
        var tree = JavaTree();
        var options = new SvgFlameOptions { MinWidthPx = minWidth };
        var frames = Frames(XDocument.Parse(Render(tree, options)));

        double scale = (1200 - 20.0) / tree.Total;
        int expected = tree.Nodes().Count(n => n.Total > 0 && n.Total * scale >= minWidth);
        Assert.Equal(expected, frames.Count);
        Assert.Equal(expected, SvgFlameGraph.CountDrawnFrames(tree, options));
        if (minWidth <= 0.1)
        {
            Assert.Equal(tree.NodeCount, frames.Count);
        }

        Assert.All(frames, f => Assert.True(f.Width >= minWidth - 0.01));
    }

    [Fact]
    public void Widths_are_proportional_to_counts()
    {
        var tree = JavaTree();
        var frames = Frames(XDocument.Parse(Render(tree, new SvgFlameOptions { Width = 1000 })));
        var root = frames.Single(f => f.Name == "all");
        Assert.Equal(tree.Total, root.Count);
        Assert.Equal(10, root.X);
        Assert.Equal(980, root.Width);
        Assert.All(frames, f => Assert.Equal(980.0 * f.Count / tree.Total, f.Width, 0.006));
        Assert.All(frames, f => Assert.InRange(f.X, 10 - 0.006, 990 - f.Width + 0.006));
    }

    [Fact]
    public void Matches_flamegraph_pl_geometry_on_the_same_input()
    {
        // Oracle: (title, x, y, width) of every frame flamegraph.pl drew for this file (Data/flame/SOURCES.md).
        var oracle = File.ReadLines(DataPath("perf-java-stacks-01-collapsed-all.flamegraph-pl.frames.tsv"))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(p => (Title: p[0], X: double.Parse(p[1], CultureInfo.InvariantCulture), Y: double.Parse(p[2], CultureInfo.InvariantCulture), W: double.Parse(p[3], CultureInfo.InvariantCulture)))
            .ToList();
        // Keyed by name, count, depth and x; flamegraph.pl derives width from endpoints rounded to 0.1 px, so widths
        // may differ by up to 0.1.
        double oracleRootY = oracle.Max(o => o.Y);
        var expected = oracle.ToDictionary(
            o => $"{o.Title[..o.Title.LastIndexOf(" (", StringComparison.Ordinal)]}|{o.Title.Split(" (")[^1].Split(' ')[0]}|{(int)((oracleRootY - o.Y) / 16)}|{o.X:F1}",
            o => o.W);

        var frames = Frames(XDocument.Parse(Render(JavaTree())));
        double rootY = frames.Max(f => f.Y);
        var actual = frames.ToDictionary(
            f => $"{f.Name}|{f.Count}|{(int)((rootY - f.Y) / 16)}|{Math.Round(f.X, 1, MidpointRounding.AwayFromZero):F1}",
            f => f.Width);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, e => Assert.Equal(e.Value, actual[e.Key], 0.1001));
    }

    [Fact]
    public void Inverted_puts_the_root_at_the_top()
    {
        var tree = FlameTree.Build(Small());
        var normal = Frames(XDocument.Parse(Render(tree)));
        var icicle = Frames(XDocument.Parse(Render(tree, new SvgFlameOptions { Inverted = true })));
        var rootN = normal.Single(f => f.Name == "all");
        var rootI = icicle.Single(f => f.Name == "all");
        Assert.All(normal.Where(f => f != rootN), f => Assert.True(f.Y < rootN.Y));
        Assert.All(icicle.Where(f => f != rootI), f => Assert.True(f.Y > rootI.Y));

        var leafN = normal.Single(f => f.Name == "sys_write");
        var leafI = icicle.Single(f => f.Name == "sys_write");
        Assert.Equal(4 * 16, rootN.Y - leafN.Y);
        Assert.Equal(4 * 16, leafI.Y - rootI.Y);
        Assert.Equal(leafN.X, leafI.X);
        Assert.Equal(leafN.Width, leafI.Width);
    }

    [Fact]
    public void Escapes_xml_special_and_invalid_characters()
    {
        string nasty = "operator<<(std::ostream&, \"x\") > 'y' \u0001\u0007";
        var tree = FlameTree.Build([S(3, P("a&b"), U(nasty)), S(1, P("a&b"), U("lone \uD800 surrogate"))]);
        string text = Render(tree, new SvgFlameOptions { Title = "<T&T>", Subtitle = "\"sub\"", CountName = "cycles<x>" });
        var doc = XDocument.Parse(text);
        var frames = Frames(doc);
        Assert.Contains(frames, f => f.Title == "a&b (4 cycles<x>, 100.00%)");
        Assert.Contains(frames, f => f.Name == "operator<<(std::ostream&, \"x\") > 'y' \uFFFD\uFFFD");
        Assert.Contains(frames, f => f.Name == "lone \uFFFD surrogate");
        Assert.Equal("<T&T>", doc.Descendants().Single(e => (string?)e.Attribute("id") == "title").Value);
    }

    [Fact]
    public void Labels_are_cut_to_fit_with_two_dots()
    {
        string longName = new('f', 300);
        var tree = FlameTree.Build([S(30, P("p"), U(longName)), S(70, P("p"), U("short"))]);
        var frames = Frames(XDocument.Parse(Render(tree)));
        var cut = frames.Single(f => f.Name == longName);
        Assert.True(cut.Width < 12 * 0.59 * 300);
        Assert.EndsWith("..", cut.Label, StringComparison.Ordinal);
        Assert.True(cut.Label.Length * 12 * 0.59 <= cut.Width);
        Assert.Equal("short", frames.Single(f => f.Name == "short").Label);
        var tiny = Frames(XDocument.Parse(Render(FlameTree.Build([S(1, P("p"), U(longName)), S(999, P("p"), U("short"))]))));
        Assert.Equal(string.Empty, tiny.Single(f => f.Name == longName).Label);
    }

    [Fact]
    public void Colours_are_deterministic_per_name_and_distinct_per_kind()
    {
        var a = Frames(XDocument.Parse(Render(FlameTree.Build(Small()))));
        var b = Frames(XDocument.Parse(Render(FlameTree.Build([S(1, P("other"), K("sys_write")), S(1, P("x"), J("Foo.run"))]))));
        Assert.Equal(a.Single(f => f.Name == "sys_write").Fill, b.Single(f => f.Name == "sys_write").Fill);
        Assert.Equal(a.Single(f => f.Name == "Foo.run").Fill, b.Single(f => f.Name == "Foo.run").Fill);

        var k = FlameTree.Build([S(1, P("p"), U("f"), K("f"), J("f"), H("f"), G("f"))]);
        var fills = Frames(XDocument.Parse(Render(k))).Where(f => f.Name == "f").Select(f => f.Fill).ToList();
        Assert.Equal(5, fills.Distinct().Count());
    }

    [Fact]
    public void Empty_tree_renders_a_valid_document_without_frames()
    {
        var doc = XDocument.Parse(Render(FlameTree.Build([])));
        Assert.Empty(Frames(doc));
    }

    [Fact]
    public void Rejects_bad_options()
    {
        var tree = FlameTree.Build(Small());
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(tree, new SvgFlameOptions { Width = 20 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(tree, new SvgFlameOptions { FrameHeight = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(tree, new SvgFlameOptions { MinWidthPx = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(tree, new SvgFlameOptions { FontSize = 0 }));
    }

    [Fact]
    public void Stacks_overload_equals_tree_overload()
    {
        var sw = new StringWriter();
        SvgFlameGraph.Write(Small(), sw);
        Assert.Equal(Render(FlameTree.Build(Small())), sw.ToString());
    }

    internal static List<FlameStack> BigProfile(int targetNodes)
    {
        // A balanced-ish tree: 10 processes, fan-out 8, depth up to 6, random counts; ~targetNodes leaves' paths.
        var rng = new Random(42);
        var stacks = new List<FlameStack>();
        var kinds = new[] { FrameKind.User, FrameKind.Kernel, FrameKind.Jit, FrameKind.Hypervisor, FrameKind.Guest };
        for (int i = 0; i < targetNodes / 5; i++)
        {
            var frames = new List<FlameFrame> { P("proc" + rng.Next(10)) };
            int depth = 6;
            for (int d = 0; d < depth; d++)
            {
                frames.Add(new FlameFrame($"fn_{d}_{rng.Next(d < 2 ? 8 : 30)}", kinds[rng.Next(kinds.Length)]));
            }

            stacks.Add(new FlameStack(frames, 1 + rng.Next(1000)));
        }

        return stacks;
    }

    [Fact]
    public void Renders_a_100k_node_tree_whole()
    {
        // Speed is bench/flame-svg.sh's to measure; here: a tree this big renders, every frame drawn once.
        var tree = FlameTree.Build(BigProfile(130_000));
        Assert.True(tree.NodeCount >= 100_000, $"only {tree.NodeCount} nodes");
        var options = new SvgFlameOptions { MinWidthPx = 0 };
        var writer = new StringWriter();
        SvgFlameGraph.Write(tree, writer, options);
        Assert.Equal(tree.NodeCount, SvgFlameGraph.CountDrawnFrames(tree, options));
        Assert.EndsWith("</svg>", writer.ToString().TrimEnd());
    }
}
