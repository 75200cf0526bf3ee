using XenProf.Reporter.Profile;
using System.Globalization;
using XenProf.Reporter.Flame.FlameInternal;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Reads folded ("collapsed") stacks (FlameGraph's stackcollapse-perf.pl output, flamegraph.pl input), for import and for tests.
/// </summary>
/// <remarks>
/// Each non-blank line is <c>frame;frame;…;frame count</c>: the count is the text after the last space (or tab) and
/// must be a non-negative integer; everything before it, split on <c>;</c>, gives the frames, root first. Kinds are
/// recovered from annotation suffixes, which are removed from the name: <c>_[k]</c> Kernel, <c>_[j]</c> Jit,
/// <c>_[h]</c> Hypervisor, <c>_[g]</c> Guest. An unannotated first frame is <see cref="FrameKind.Process"/>, any
/// other unannotated frame <see cref="FrameKind.User"/>. Other suffixes (<c>_[i]</c>, <c>_[w]</c>) stay in the name.
/// Lines are returned in input order, not merged. Differential input (two counts) and fractional counts are
/// rejected.
/// </remarks>
public static class FoldedReader
{
    /// <summary>Reads every stack of <paramref name="input"/>, lazily (one line at a time).</summary>
    /// <param name="input">Folded text; blank lines are skipped; CRLF accepted.</param>
    /// <returns>One stack per non-blank line.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="FormatException">
    /// A line has no count, a count that is not a non-negative 64-bit integer, or no frame; the message starts with
    /// <c>folded line N:</c> (1-based).
    /// </exception>
    public static IEnumerable<FlameStack> Read(TextReader input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return ReadLines(input);
    }

    private static IEnumerable<FlameStack> ReadLines(TextReader input)
    {
        int lineNumber = 0;
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            lineNumber++;
            var text = line.AsSpan().TrimEnd();
            if (text.IsWhiteSpace())
            {
                continue;
            }

            yield return ParseLine(text, lineNumber);
        }
    }

    private static FlameStack ParseLine(ReadOnlySpan<char> text, int lineNumber)
    {
        int space = text.LastIndexOfAny(' ', '\t');
        if (space < 0)
        {
            throw Bad(lineNumber, "expected 'frame;frame;... count' but found no space before a count");
        }

        var countText = text[(space + 1)..];
        if (!long.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out long count))
        {
            throw Bad(lineNumber, $"count '{countText}' is not a non-negative integer");
        }

        var stackText = text[..space];
        if (stackText.IsEmpty)
        {
            throw Bad(lineNumber, "the stack has no frame");
        }

        var frames = new List<FlameFrame>(stackText.Count(FoldedSyntax.Separator) + 1);
        foreach (var range in stackText.Split(FoldedSyntax.Separator))
        {
            var frame = stackText[range];
            FrameKind kind = frames.Count == 0 ? FrameKind.Process : FrameKind.User;
            if (FoldedSyntax.TryStripSuffix(frame, out var annotated, out int nameLength))
            {
                kind = annotated;
                frame = frame[..nameLength];
            }

            frames.Add(new FlameFrame(frame.ToString(), kind));
        }

        return new FlameStack(frames, count);
    }

    private static FormatException Bad(int lineNumber, string what) =>
        new($"folded line {lineNumber.ToString(CultureInfo.InvariantCulture)}: {what}.");
}
