using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// Image include/exclude patterns (<see cref="ProfileOptions.Images"/>, <see cref="ProfileOptions.ImageExcludes"/>), matched
/// as oprofile's glob_filter does (libutil++/glob_filter.cpp: an image is kept when it matches an include pattern, or
/// there are none, and matches no exclude pattern), each pattern through fnmatch(3) without flags.
/// A pattern with a <c>/</c> is matched against the image's full path; any other against its basename and its report
/// name (<see cref="ImageNames.Display"/>). A pattern equal to one of those names matches even when it would not as a
/// glob (<c>[vdso]</c> is a character class to fnmatch).
/// </summary>
internal sealed class ImageFilter(IReadOnlyList<string> include, IReadOnlyList<string> exclude)
{
    /// <summary>Whether samples of <paramref name="image"/>, shown as <paramref name="displayName"/>, are kept.</summary>
    public bool Keeps(StoredImage image, string displayName)
    {
        if (include.Count > 0 && !include.Any(p => Matches(p, image, displayName))) return false;
        return !exclude.Any(p => Matches(p, image, displayName));
    }

    private static bool Matches(string pattern, StoredImage image, string displayName)
    {
        if (pattern.Contains('/')) return pattern == image.Path || Glob(pattern, image.Path);
        var baseName = Path.GetFileName(image.Path);
        return pattern == baseName || pattern == displayName || Glob(pattern, baseName) || Glob(pattern, displayName);
    }

    /// <summary>fnmatch(3) with no flags: <c>*</c> any run (including <c>/</c>), <c>?</c> one character, <c>[...]</c> a set
    /// (<c>!</c> or <c>^</c> negates, <c>a-z</c> ranges), <c>\</c> quotes the next character.</summary>
    internal static bool Glob(string pattern, string text) => Glob(pattern, 0, text, 0);

    private static bool Glob(string p, int pi, string t, int ti)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') pi++;
                if (pi == p.Length) return true;
                for (int k = ti; k <= t.Length; k++)
                    if (Glob(p, pi, t, k)) return true;
                return false;
            }
            if (ti == t.Length) return false;
            if (c == '?') { pi++; ti++; continue; }
            if (c == '[' && Set(p, pi, t[ti]) is { } set)
            {
                if (!set.Matched) return false;
                pi = set.Next; ti++;
                continue;
            }
            if (c == '\\' && pi + 1 < p.Length) c = p[++pi];
            if (c != t[ti]) return false;
            pi++; ti++;
        }
        return ti == t.Length;
    }

    // A bracket expression at p[start]; null when it is not closed (then '[' is an ordinary character).
    private static (bool Matched, int Next)? Set(string p, int start, char ch)
    {
        int i = start + 1;
        bool negate = i < p.Length && (p[i] == '!' || p[i] == '^');
        if (negate) i++;
        bool matched = false, first = true;
        while (i < p.Length && (p[i] != ']' || first))
        {
            first = false;
            char lo = p[i];
            if (i + 2 < p.Length && p[i + 1] == '-' && p[i + 2] != ']')
            {
                if (ch >= lo && ch <= p[i + 2]) matched = true;
                i += 3;
            }
            else { if (ch == lo) matched = true; i++; }
        }
        if (i >= p.Length) return null;
        return (matched != negate, i + 1);
    }
}
