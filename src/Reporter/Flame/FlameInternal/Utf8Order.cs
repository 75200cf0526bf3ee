namespace XenProf.Reporter.Flame.FlameInternal;

/// <summary>
/// Compares strings in UTF-8 byte order (= Unicode code point order), which is what perl's <c>sort</c> and
/// <c>LC_ALL=C sort</c> produce on the folded files. Plain ordinal UTF-16 comparison agrees except when a
/// surrogate (U+D800–U+DFFF, i.e. a code point above U+FFFF) meets a char in U+E000–U+FFFF.
/// </summary>
internal static class Utf8Order
{
    public static readonly IComparer<string> Comparer = Comparer<string>.Create(Compare);

    public static int Compare(string? a, string? b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }

        if (a is null)
        {
            return -1;
        }

        if (b is null)
        {
            return 1;
        }

        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
            {
                if (x >= 0xD800 && y >= 0xD800)
                {
                    return Fix(x) - Fix(y);
                }

                return x - y;
            }
        }

        return a.Length - b.Length;
    }

    // Moves surrogates above U+E000–U+FFFF so that UTF-16 units sort in code point order.
    private static int Fix(char c) => c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
