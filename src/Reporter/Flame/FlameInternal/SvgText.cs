using System.Globalization;

namespace XenProf.Reporter.Flame.FlameInternal;

/// <summary>XML escaping and number formatting for the SVG writer.</summary>
internal static class SvgText
{
    /// <summary>Width of an average glyph as a fraction of the font size (Verdana-like fonts), used to fit labels.</summary>
    public const double FontWidth = 0.59;

    /// <summary>Horizontal padding of a label inside its bar, in pixels, on each side.</summary>
    public const double LabelPad = 3;

    /// <summary>
    /// Writes <paramref name="text"/> escaped for XML text or a double-quoted attribute: <c>&amp; &lt; &gt; "</c> as
    /// entities; characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) as U+FFFD.
    /// </summary>
    public static void WriteEscaped(TextWriter w, ReadOnlySpan<char> text)
    {
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement;
            if (c is '&' or '<' or '>' or '"')
            {
                replacement = c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", _ => "&quot;" };
            }
            else if (c < 0x20 ? c is not ('\t' or '\n' or '\r') : c >= 0xD800 && !IsValidHigh(text, i, c))
            {
                replacement = "\uFFFD";
            }
            else
            {
                if (char.IsHighSurrogate(c))
                {
                    i++; // valid pair: keep both halves
                }

                continue;
            }

            w.Write(text[start..i]);
            w.Write(replacement);
            start = i + 1;
        }

        w.Write(text[start..]);
    }

    // For c >= U+D800: true when c is a char XML allows here (a high surrogate followed by a low one, or U+E000–U+FFFD).
    private static bool IsValidHigh(ReadOnlySpan<char> text, int i, char c)
    {
        if (char.IsHighSurrogate(c))
        {
            return i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
        }

        return !char.IsLowSurrogate(c) && c < 0xFFFE;
    }

    /// <summary>The label drawn in a bar <paramref name="width"/> px wide: the name, or a prefix + "..", or nothing.</summary>
    public static ReadOnlySpan<char> FitLabel(string name, double width, double fontSize)
    {
        int fits = (int)((width - 2 * LabelPad) / (fontSize * FontWidth));
        if (fits < 3)
        {
            return [];
        }

        if (name.Length <= fits)
        {
            return name;
        }

        int keep = fits - 2;
        if (char.IsHighSurrogate(name[keep - 1]))
        {
            keep--;
        }

        return string.Concat(name.AsSpan(0, keep), "..");
    }

    /// <summary>A pixel coordinate with at most two decimals, invariant culture.</summary>
    public static void WriteNumber(TextWriter w, double value)
    {
        Span<char> buffer = stackalloc char[32];
        double rounded = Math.Round(value, 2);
        if (rounded == 0)
        {
            rounded = 0; // no "-0"
        }

        if (rounded.TryFormat(buffer, out int n, "0.##", CultureInfo.InvariantCulture))
        {
            w.Write(buffer[..n]);
        }
        else
        {
            w.Write(rounded.ToString("0.##", CultureInfo.InvariantCulture));
        }
    }
}
