using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;
using Xunit;

namespace XenProf.Reporter.Tests.Flame;

/// <summary>
/// The differential flame graph's rules from FlameGraph: difffolded.pl's pairing and <c>-n</c> scaling, and
/// flamegraph.pl's <c>color_scale</c> (red for growth, blue for shrink, white for none, scaled by the largest change).
/// </summary>
public sealed class DiffFlameGraphTests
{
    private static FlameStack S(long count, params string[] frames) =>
        new(frames.Select((f, i) => new FlameFrame(f, i == 0 ? FrameKind.Process : FrameKind.User)).ToArray(), count);

    [Theory]
    [InlineData(100, 100, 255, 0, 0)]
    [InlineData(50, 100, 255, 105, 105)] // int(210 * (100 - 50) / 100)
    [InlineData(-25, 100, 157, 157, 255)] // int(210 * (100 - 25) / 100)
    [InlineData(-100, 100, 0, 0, 255)]
    [InlineData(0, 100, 255, 255, 255)]
    [InlineData(3, 0, 255, 0, 0)] // the largest change is at least 1
    public void Fill_IsFlamegraphPlsColorScale(long delta, long max, byte r, byte g, byte b) =>
        Assert.Equal((r, g, b), DiffFlameGraph.Fill(delta, max));

    [Fact]
    public void Pair_GivesBothCountsPerStack_ZeroWhereASideLacksIt()
    {
        var d = DiffFlameGraph.Pair([S(30, "p", "main", "f"), S(10, "p", "main", "h"), S(5, "p", "main", "f")], [S(10, "p", "main", "f"), S(40, "p", "main", "g")]);
        var w = new StringWriter();
        d.WriteFolded(w);
        Assert.Equal("p;main;f 35 10\np;main;g 0 40\np;main;h 10 0\n", w.ToString());

        // -n: base counts scaled to the new total (45 → 50), rounded down.
        w = new StringWriter();
        DiffFlameGraph.Pair([S(30, "p", "f"), S(15, "p", "g")], [S(20, "p", "f"), S(30, "p", "g")], normalize: true).WriteFolded(w);
        Assert.Equal("p;f 33 20\np;g 16 30\n", w.ToString());
    }

    [Fact]
    public void Svg_WidthsFromTheNewProfile_ColoursBySelfChange()
    {
        var d = DiffFlameGraph.Pair([S(30, "p", "main", "f"), S(10, "p", "main", "h")], [S(10, "p", "main", "f"), S(40, "p", "main", "g")]);
        var w = new StringWriter();
        d.WriteSvg(w);
        var svg = w.ToString();
        Assert.Contains("<title>g (40 samples, 80.00%; +80.00%)</title>", svg);
        Assert.Contains("<title>f (10 samples, 20.00%; -40.00%)</title>", svg);
        Assert.DoesNotContain("<title>h ", svg); // only in the base profile: no width
        Assert.Contains("fill=\"rgb(255,0,0)\"", svg); // g: the largest growth
        Assert.Contains("fill=\"rgb(105,105,255)\"", svg); // f: -20, largest change 40: int(210 * (40 - 20) / 40)
    }
}
