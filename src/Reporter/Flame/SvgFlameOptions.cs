namespace XenProf.Reporter.Flame;

/// <summary>Options of <see cref="SvgFlameGraph"/>. Every default gives a usable graph.</summary>
public sealed record SvgFlameOptions
{
    /// <summary>The defaults.</summary>
    public static SvgFlameOptions Default { get; } = new();

    /// <summary>Heading drawn at the top. Default <c>"Flame Graph"</c>.</summary>
    public string Title { get; init; } = "Flame Graph";

    /// <summary>Second, smaller heading below the title; none when null or empty (the default).</summary>
    public string? Subtitle { get; init; }

    /// <summary>Image width in pixels, margins included (10 px each side). Default 1200; must be more than 20.</summary>
    public int Width { get; init; } = 1200;

    /// <summary>Height of one stack level in pixels (the bar is one pixel less). Default 16; at least 2.</summary>
    public int FrameHeight { get; init; } = 16;

    /// <summary>Font size in pixels for frame labels; the title is larger. Default 12; must be positive.</summary>
    public double FontSize { get; init; } = 12;

    /// <summary>
    /// Frames narrower than this many pixels (at the unzoomed scale) are not drawn, nor are their descendants,
    /// which keeps huge profiles small. Default 0.1; 0 draws every frame with a non-zero count.
    /// </summary>
    public double MinWidthPx { get; init; } = 0.1;

    /// <summary>Draw an icicle graph: root at the top, stacks growing downwards. Default false (root at the bottom).</summary>
    public bool Inverted { get; init; }

    /// <summary>What the counts are, as shown in tooltips: <c>"name (N samples, P%)"</c>. Default <c>"samples"</c>.</summary>
    public string CountName { get; init; } = "samples";
}
