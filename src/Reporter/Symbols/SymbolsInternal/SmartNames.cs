using System.Text;
using System.Text.RegularExpressions;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// oprofile's <c>--demangle=smart</c>: shortens demangled C++ names by the rules of its <c>libregex/stl.pat</c>,
/// applied here to the parsed template-argument tree instead of by regular expressions:
/// <list type="bullet">
/// <item><c>std::</c> and <c>(anonymous namespace)::</c> are dropped, and so is libstdc++'s <c>__cxx11::</c> inline
/// namespace (newer than oprofile's rules, same intent); <c> &gt;</c> becomes <c>&gt;</c>;</item>
/// <item>default arguments go: <c>vector|list|deque&lt;T, allocator&lt;T&gt;&gt;</c>, <c>stack|queue&lt;T, deque&lt;T&gt;&gt;</c>,
/// <c>priority_queue&lt;T, vector&lt;T&gt;, less&lt;T&gt;&gt;</c>, <c>[multi]set&lt;K, less&lt;K&gt;, allocator&lt;K&gt;&gt;</c>,
/// <c>[multi]map&lt;K, V, less&lt;K&gt;, allocator&lt;pair&lt;K const, V&gt;&gt;&gt;</c> (a user comparator is kept), and,
/// beyond oprofile's list, <c>unordered_[multi]map|set</c> with <c>hash</c>, <c>equal_to</c> and the allocator;</item>
/// <item>iostreams and strings lose <c>char_traits&lt;C&gt;</c> and <c>allocator&lt;C&gt;</c>, then <c>basic_X&lt;char&gt;</c> is
/// named <c>X</c> and <c>basic_X&lt;wchar_t&gt;</c> <c>wX</c> (<c>string</c>, <c>wstring</c>, <c>ostream</c>, <c>stringstream</c>…);</item>
/// <item><c>__gnu_cxx::__normal_iterator&lt;T*, vector&lt;T&gt;&gt;</c> is <c>vector&lt;T&gt;::iterator</c> (<c>const_iterator</c> for
/// <c>T const*</c>), and likewise for strings.</item>
/// </list>
/// </summary>
internal static class SmartNames
{
    private static readonly Regex Namespaces = new(@"(?<![A-Za-z0-9_])(std::|__cxx11::)|\(anonymous namespace\)::", RegexOptions.CultureInvariant);

    private static readonly HashSet<string> IosTraitsOnly =
        ["basic_ios", "basic_streambuf", "basic_istream", "basic_ostream", "basic_iostream", "basic_filebuf",
         "basic_ifstream", "basic_ofstream", "basic_fstream", "istreambuf_iterator", "ostreambuf_iterator"];

    private static readonly HashSet<string> TraitsAndAllocator =
        ["basic_string", "basic_stringbuf", "basic_istringstream", "basic_ostringstream", "basic_stringstream"];

    /// <summary>The shortened form of demangled name <paramref name="name"/>.</summary>
    public static string Shorten(string name)
    {
        var s = Namespaces.Replace(name, "");
        return Rewrite(s).Replace(" >", ">", StringComparison.Ordinal);
    }

    // Rewrites every name<args> in s, innermost first.
    private static string Rewrite(string s)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < s.Length)
        {
            int lt = s.IndexOf('<', i);
            if (lt < 0) { sb.Append(s, i, s.Length - i); break; }
            int nameStart = lt;
            while (nameStart > i && (char.IsAsciiLetterOrDigit(s[nameStart - 1]) || s[nameStart - 1] is '_' or ':')) nameStart--;
            string name = s[nameStart..lt];
            int close = Matching(s, lt);
            if (name.Length == 0 || name.EndsWith("operator", StringComparison.Ordinal) || close < 0)
            {
                sb.Append(s, i, lt + 1 - i);
                i = lt + 1;
                continue;
            }
            sb.Append(s, i, nameStart - i);
            var args = SplitArgs(s[(lt + 1)..close]).Select(a => Rewrite(a).Replace(" >", ">", StringComparison.Ordinal).Trim()).ToList();
            sb.Append(Apply(name, args));
            i = close + 1;
        }
        return sb.ToString();
    }

    private static int Matching(string s, int open)
    {
        int depth = 0;
        for (int k = open; k < s.Length; k++)
        {
            char c = s[k];
            if (c is '<' or '(' or '[') depth++;
            else if (c is '>' or ')' or ']') { if (--depth == 0) return c == '>' ? k : -1; }
        }
        return -1;
    }

    private static List<string> SplitArgs(string inner)
    {
        var list = new List<string>();
        int depth = 0, start = 0;
        for (int k = 0; k < inner.Length; k++)
        {
            char c = inner[k];
            if (c is '<' or '(' or '[') depth++;
            else if (c is '>' or ')' or ']') depth--;
            else if (c == ',' && depth == 0) { list.Add(inner[start..k]); start = k + 1; }
        }
        list.Add(inner[start..]);
        return list;
    }

    private static string Apply(string name, List<string> a)
    {
        string last = name[(name.LastIndexOf(':') + 1)..];
        string prefix = name[..^last.Length];
        int n = a.Count;
        switch (last)
        {
            case "vector" or "list" or "deque" or "forward_list" when n == 2 && a[1] == $"allocator<{a[0]}>":
            case "stack" or "queue" when n == 2 && a[1] == $"deque<{a[0]}>":
            case "priority_queue" when n == 3 && a[1] == $"vector<{a[0]}>" && a[2] == $"less<{a[0]}>":
                return $"{name}<{a[0]}>";
            case "set" or "multiset" when n == 3 && a[2] == $"allocator<{a[0]}>":
                return a[1] == $"less<{a[0]}>" ? $"{name}<{a[0]}>" : $"{name}<{a[0]}, {a[1]}>";
            case "map" or "multimap" when n == 4 && a[3] == $"allocator<pair<{a[0]} const, {a[1]}>>":
                return a[2] == $"less<{a[0]}>" ? $"{name}<{a[0]}, {a[1]}>" : $"{name}<{a[0]}, {a[1]}, {a[2]}>";
            case "unordered_set" or "unordered_multiset" when n == 4 && a[1] == $"hash<{a[0]}>" && a[2] == $"equal_to<{a[0]}>" && a[3] == $"allocator<{a[0]}>":
                return $"{name}<{a[0]}>";
            case "unordered_map" or "unordered_multimap" when n == 5 && a[2] == $"hash<{a[0]}>" && a[3] == $"equal_to<{a[0]}>" && a[4] == $"allocator<pair<{a[0]} const, {a[1]}>>":
                return $"{name}<{a[0]}, {a[1]}>";
            case "__normal_iterator" when n == 2 && a[0].EndsWith('*'):
            {
                string elem = a[0][..^1].TrimEnd();
                bool isConst = elem.EndsWith(" const", StringComparison.Ordinal);
                string kind = isConst ? "const_iterator" : "iterator";
                if (isConst) elem = elem[..^" const".Length];
                if (a[1] == $"vector<{elem}>" || (elem == "char" && a[1] == "string") || (elem == "wchar_t" && a[1] == "wstring"))
                    return $"{a[1]}::{kind}";
                break;
            }
        }
        if (IosTraitsOnly.Contains(last) && n == 2 && a[1] == $"char_traits<{a[0]}>") return Typedef(prefix, last, a[0]);
        if (TraitsAndAllocator.Contains(last) && n == 3 && a[1] == $"char_traits<{a[0]}>" && a[2] == $"allocator<{a[0]}>") return Typedef(prefix, last, a[0]);
        return $"{name}<{string.Join(", ", a)}>";
    }

    // basic_X<char> is X, basic_X<wchar_t> is wX (the standard typedefs); other character types keep the template.
    private static string Typedef(string prefix, string last, string ch)
    {
        if (last.StartsWith("basic_", StringComparison.Ordinal) && ch is "char" or "wchar_t")
            return prefix + (ch == "wchar_t" ? "w" : "") + last["basic_".Length..];
        return $"{prefix}{last}<{ch}>";
    }
}
