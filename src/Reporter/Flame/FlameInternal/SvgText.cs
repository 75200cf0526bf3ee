using System.Globalization;
using System.Runtime.CompilerServices;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>A pixel coordinate with at most two decimals (trailing zeros dropped), invariant culture; no exponent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteNumber(TextWriter w, double value)
    {
        if (!double.IsFinite(value) || Math.Abs(value) >= 1e15)
        {
            w.Write(value.ToString("0.##", CultureInfo.InvariantCulture));
            return;
        }

        long hundredths = (long)Math.Round(value * 100, MidpointRounding.AwayFromZero);
        Span<char> buffer = stackalloc char[24];
        int pos = buffer.Length;
        bool negative = hundredths < 0;
        ulong v = (ulong)Math.Abs(hundredths);
        int cents = (int)(v % 100);
        v /= 100;
        if (cents != 0)
        {
            if (cents % 10 != 0)
            {
                buffer[--pos] = (char)('0' + cents % 10);
            }

            buffer[--pos] = (char)('0' + cents / 10);
            buffer[--pos] = '.';
        }

        do
        {
            buffer[--pos] = (char)('0' + (int)(v % 10));
            v /= 10;
        }
        while (v != 0);
        if (negative)
        {
            buffer[--pos] = '-';
        }

        w.Write(buffer[pos..]);
    }

    /// <summary>A non-negative count with ',' every three digits (<c>1,234,567</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteGrouped(TextWriter w, long value)
    {
        if (value < 0)
        {
            w.Write(value.ToString("N0", CultureInfo.InvariantCulture));
            return;
        }

        Span<char> buffer = stackalloc char[32];
        int pos = buffer.Length, digits = 0;
        ulong v = (ulong)value;
        do
        {
            if (digits > 0 && digits % 3 == 0)
            {
                buffer[--pos] = ',';
            }

            buffer[--pos] = (char)('0' + (int)(v % 10));
            v /= 10;
            digits++;
        }
        while (v != 0);
        w.Write(buffer[pos..]);
    }

    /// <summary>A percentage with exactly two decimals (<c>12.50</c>).</summary>
    public static void WritePercent(TextWriter w, double percent)
    {
        if (!double.IsFinite(percent) || percent < 0 || percent >= 1e15)
        {
            w.Write(percent.ToString("0.00", CultureInfo.InvariantCulture));
            return;
        }

        long hundredths = (long)Math.Round(percent * 100, MidpointRounding.AwayFromZero);
        Span<char> buffer = stackalloc char[24];
        int pos = buffer.Length;
        ulong v = (ulong)hundredths;
        buffer[--pos] = (char)('0' + (int)(v % 10));
        buffer[--pos] = (char)('0' + (int)(v / 10 % 10));
        buffer[--pos] = '.';
        v /= 100;
        do
        {
            buffer[--pos] = (char)('0' + (int)(v % 10));
            v /= 10;
        }
        while (v != 0);
        w.Write(buffer[pos..]);
    }
}
