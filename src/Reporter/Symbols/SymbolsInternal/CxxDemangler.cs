using System.Runtime.InteropServices;
using System.Text;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// C++ (Itanium ABI) demangling through libstdc++'s <c>abi::__cxa_demangle</c> (libstdc++.so.6, P/Invoke), which
/// always prints the complete signature. perf 6.1 calls libiberty without <c>DMGL_PARAMS</c> (unless verbose), and
/// libiberty's <c>d_encoding</c> then prints only the name of a top-level function: no return type, no parameters,
/// no function qualifiers, and what follows the encoding (clone suffixes such as <c>.isra.0</c>, a <c>@VERSION</c>)
/// is ignored. <see cref="Demangle"/> with <c>full: false</c> reproduces that by demangling the name up to the
/// first <c>.</c> or <c>@</c> and cutting the top-level parameter list and return type out of the printed
/// signature. Special names (thunks, vtables, guard variables) keep their inner signature, as libiberty prints
/// non-top-level encodings in full.
/// </summary>
internal static class CxxDemangler
{
    [DllImport("libstdc++.so.6", EntryPoint = "__cxa_demangle")]
    private static extern unsafe byte* CxaDemangle(byte* mangled, byte* buffer, nuint* length, int* status);

    private static volatile bool _unavailable;

    /// <summary>True when libstdc++.so.6 could not be loaded (C++ names are then left mangled).</summary>
    public static bool Unavailable => _unavailable;

    /// <summary>The demangled name, or null when <paramref name="mangled"/> is not a valid mangled name (or libstdc++
    /// is missing).</summary>
    /// <param name="mangled">A name starting <c>_Z</c>.</param>
    /// <param name="full">True for the complete signature (a <c>@VERSION</c> suffix re-appended), false for perf's form.</param>
    public static string? Demangle(string mangled, bool full)
    {
        int at = mangled.IndexOf('@');
        string version = at < 0 ? "" : mangled[at..];
        string encoding = at < 0 ? mangled : mangled[..at];
        if (!full)
        {
            int dot = encoding.IndexOf('.');
            if (dot > 0) encoding = encoding[..dot];
        }
        var d = Cxa(encoding);
        if (d == null) return null;
        return full ? d + version : PerfForm(d);
    }

    /// <summary>The complete demangled signature from <c>__cxa_demangle</c>, or null.</summary>
    public static unsafe string? Cxa(string mangled)
    {
        if (_unavailable) return null;
        int n = Encoding.UTF8.GetByteCount(mangled);
        byte[] buf = new byte[n + 1];
        Encoding.UTF8.GetBytes(mangled, buf);
        try
        {
            fixed (byte* p = buf)
            {
                int status;
                byte* r = CxaDemangle(p, null, null, &status);
                if (r == null) return null;
                try { return status == 0 ? Marshal.PtrToStringUTF8((IntPtr)r) : null; }
                finally { NativeMemory.Free(r); }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
            return null;
        }
    }

    // Names libiberty prints with a prefix and a non-top-level (hence complete) encoding; left as printed.
    private static readonly string[] SpecialPrefixes =
    [
        "non-virtual thunk to ", "virtual thunk to ", "covariant return thunk to ", "construction vtable for ",
        "vtable for ", "VTT for ", "typeinfo for ", "typeinfo name for ", "typeinfo fn for ", "guard variable for ",
        "TLS init function for ", "TLS wrapper function for ", "reference temporary #", "hidden alias for ",
        "transaction clone for ", "non-transaction clone for ", "java Class for ", "template parameter object for ",
    ];

    // Symbolic operator names, longest first, so that their brackets are not taken for nesting.
    private static readonly string[] Operators =
    [
        "<<=", ">>=", "<=>", "->*", "()", "[]", "<<", ">>", "<=", ">=", "->", "==", "!=", "&&", "||", "++", "--",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<", ">", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", ",",
    ];

    /// <summary>
    /// Cuts a complete signature down to what libiberty prints without <c>DMGL_PARAMS</c>: the top-level parameter
    /// list (the last bracket group at nesting level 0, followed only by qualifiers) and everything after it go, and so
    /// does a return type (text before the last level-0 space that precedes the name's first level-0 bracket group
    /// or <c>operator</c> keyword). Brackets inside operator names (<c>operator()</c>, <c>operator&lt;&lt;</c>) do not nest.
    /// </summary>
    /// <example><c>long ns::work&lt;long&gt;(std::vector&lt;long, std::allocator&lt;long&gt; &gt;&amp;, int)</c> → <c>ns::work&lt;long&gt;</c>;
    /// <c>ns::A::operator()(int) const</c> → <c>ns::A::operator()</c>.</example>
    public static string PerfForm(string full)
    {
        foreach (var p in SpecialPrefixes) if (full.StartsWith(p, StringComparison.Ordinal)) return full;
        var stack = new Stack<char>();
        var groups = new List<(int Start, int End)>(); // level-0 bracket groups '(' .. ')'
        int lastSpaceBeforeStop = -1, stop = -1, groupStart = -1;
        for (int i = 0; i < full.Length; i++)
        {
            char c = full[i];
            if (c == 'o' && IsOperatorKeyword(full, i))
            {
                if (stack.Count == 0 && stop < 0) stop = i;
                i += "operator".Length;
                foreach (var op in Operators)
                    if (string.CompareOrdinal(full, i, op, 0, op.Length) == 0) { i += op.Length; break; }
                if (i + 1 < full.Length && full[i] == ' ' && full[i + 1] == '<') i++; // "operator< <int>"
                i--;
                continue;
            }
            switch (c)
            {
                case '(':
                    if (stack.Count == 0) groupStart = i;
                    stack.Push('(');
                    break;
                case '<' or '[' or '{':
                    stack.Push(c);
                    break;
                case ')':
                    while (stack.Count > 0 && stack.Pop() != '(') { }
                    if (stack.Count == 0 && groupStart >= 0)
                    {
                        groups.Add((groupStart, i));
                        if (stop < 0 && !full.AsSpan(groupStart).StartsWith("(anonymous namespace)")) stop = groupStart;
                        groupStart = -1;
                    }
                    break;
                case '>':
                    if (stack.Count > 0 && stack.Peek() == '<') stack.Pop();
                    break;
                case ']':
                    if (stack.Count > 0 && stack.Peek() == '[') stack.Pop();
                    break;
                case '}':
                    if (stack.Count > 0 && stack.Peek() == '{') stack.Pop();
                    break;
                case ' ':
                    if (stack.Count == 0 && stop < 0) lastSpaceBeforeStop = i;
                    break;
            }
        }
        if (groups.Count == 0) return full;
        var (ps, pe) = groups[^1];
        if (!OnlyQualifiers(full.AsSpan(pe + 1)) || full.AsSpan(ps).StartsWith("(anonymous namespace)")) return full;
        // The return type ends at the last level-0 space before the name's first group or operator; for a
        // non-template function there is none (its first group is the parameter list itself).
        int nameStart = lastSpaceBeforeStop >= 0 && lastSpaceBeforeStop < ps ? lastSpaceBeforeStop + 1 : 0;
        return full[nameStart..ps].TrimEnd();
    }

    private static bool IsOperatorKeyword(string s, int i)
    {
        if (string.CompareOrdinal(s, i, "operator", 0, 8) != 0) return false;
        if (i > 0 && (char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_')) return false;
        int j = i + 8;
        return j >= s.Length || !(char.IsLetterOrDigit(s[j]) || s[j] == '_');
    }

    private static bool OnlyQualifiers(ReadOnlySpan<char> rest)
    {
        foreach (var word in rest.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (word is not ("const" or "volatile" or "restrict" or "&" or "&&" or "noexcept" or "transaction_safe") && !word.StartsWith("[abi:", StringComparison.Ordinal))
                return false;
        return true;
    }
}
