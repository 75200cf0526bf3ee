using System.Globalization;
using System.Text;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// Rust symbol demangling, both schemes rustc emits:
/// <list type="bullet">
/// <item>legacy (<c>_ZN</c> + length-prefixed elements + <c>E</c>, the last element usually the hash
/// <c>h&lt;16 hex digits&gt;</c>, with <c>$LT$</c>-style escapes and <c>..</c> for <c>::</c>);</item>
/// <item>v0 (<c>_R</c>…, RFC 2603 "Rust Symbol Mangling (v0)" and rustc's <c>src/doc/rustc/src/symbol-mangling/v0.md</c>):
/// paths, generic arguments, types, constants, base-62 back-references, Punycode identifiers.</item>
/// </list>
/// Output follows the <c>rustc-demangle</c> crate (the reference implementation; its test vectors are this code's
/// tests), in its alternate form (<c>{:#}</c>: no legacy hash, no v0 crate disambiguators or constant type suffixes)
/// when <c>withHash</c> is false — which is also what perf prints through libiberty's port of it. As in that crate, a
/// ThinLTO <c>.llvm.&lt;hex&gt;</c> suffix is dropped and other symbol-like <c>.suffix</c>es are kept. A symbol that does
/// not parse gives null (the caller shows the raw name), including one past the depth limit of 500.
/// </summary>
internal static class RustDemangler
{
    /// <summary>Whether <paramref name="raw"/> is a legacy Rust symbol ending in a hash element (<c>17h</c> + 16 hex
    /// digits + <c>E</c>), the test libiberty's <c>rust_demangle</c> applies before a name is tried as C++.</summary>
    public static bool IsLegacy(string raw)
    {
        var s = StripLlvmSuffix(raw);
        if (!TryParseLegacy(s, out var inner, out var elements, out var rest) || elements.Count == 0) return false;
        var last = elements[^1];
        return last.Length == 17 && IsHash(inner.AsSpan(last.Start, last.Length)) && (rest.Length == 0 || rest[0] == '.');
    }

    /// <summary>The demangled name, or null when <paramref name="raw"/> is neither scheme (or is malformed).</summary>
    /// <param name="raw">A symbol name.</param>
    /// <param name="withHash">True for rustc-demangle's plain form (<c>{}</c>): the legacy hash as a last
    /// <c>::h…</c> element, v0 crate disambiguators as <c>[…]</c> and integer constants with their type suffix.</param>
    public static string? Demangle(string raw, bool withHash)
    {
        var s = StripLlvmSuffix(raw);
        string? d;
        string rest;
        if (TryParseLegacy(s, out var inner, out var elements, out rest)) d = PrintLegacy(inner, elements, withHash);
        else
        {
            d = V0.Demangle(s, withHash, out rest);
            if (d == null) return null;
        }
        if (rest.Length == 0) return d;
        // LLVM IR branch labels and similar: keep a symbol-like ".suffix", reject anything else.
        if (rest[0] != '.' || !rest.All(c => c < 0x80 && (char.IsAsciiLetterOrDigit(c) || char.IsPunctuation(c) || char.IsSymbol(c)))) return null;
        return d + rest;
    }

    private static string StripLlvmSuffix(string s)
    {
        int i = s.IndexOf(".llvm.", StringComparison.Ordinal);
        if (i < 0) return s;
        foreach (var c in s.AsSpan(i + 6)) if (!(c is >= 'A' and <= 'F' or >= '0' and <= '9' or '@')) return s;
        return s[..i];
    }

    private static bool IsHash(ReadOnlySpan<char> e)
    {
        if (e.Length < 2 || e[0] != 'h') return false;
        foreach (var c in e[1..]) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static bool TryParseLegacy(string s, out string inner, out List<(int Start, int Length)> elements, out string rest)
    {
        elements = [];
        rest = "";
        inner = s.StartsWith("_ZN", StringComparison.Ordinal) ? s[3..]
            : s.StartsWith("__ZN", StringComparison.Ordinal) ? s[4..]
            : s.StartsWith("ZN", StringComparison.Ordinal) ? s[2..] : "";
        if (inner.Length == 0 || inner.Any(c => c >= 0x80)) return false;
        int i = 0;
        while (true)
        {
            if (i >= inner.Length) return false;
            if (inner[i] == 'E') { i++; break; }
            if (!char.IsAsciiDigit(inner[i])) return false;
            long len = 0;
            while (i < inner.Length && char.IsAsciiDigit(inner[i]))
            {
                len = len * 10 + (inner[i] - '0');
                if (len > inner.Length) return false;
                i++;
            }
            if (i + len > inner.Length) return false;
            elements.Add((i, (int)len));
            i += (int)len;
        }
        rest = inner[i..];
        return true;
    }

    private static string PrintLegacy(string inner, List<(int Start, int Length)> elements, bool withHash)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < elements.Count; k++)
        {
            var e = inner.AsSpan(elements[k].Start, elements[k].Length);
            if (!withHash && k + 1 == elements.Count && IsHash(e)) break;
            if (k != 0) sb.Append("::");
            if (e.StartsWith("_$")) e = e[1..];
            while (e.Length > 0)
            {
                if (e[0] == '.')
                {
                    if (e.Length > 1 && e[1] == '.') { sb.Append("::"); e = e[2..]; }
                    else { sb.Append('.'); e = e[1..]; }
                }
                else if (e[0] == '$')
                {
                    int end = e[1..].IndexOf('$');
                    if (end < 0) { sb.Append(e); break; }
                    var esc = e.Slice(1, end);
                    char? c = esc switch
                    {
                        "SP" => '@', "BP" => '*', "RF" => '&', "LT" => '<', "GT" => '>', "LP" => '(', "RP" => ')', "C" => ',',
                        _ => null,
                    };
                    string? u = null;
                    if (c == null && esc.Length > 1 && esc[0] == 'u'
                        && uint.TryParse(esc[1..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp)
                        && cp <= 0x10FFFF && cp is < 0xD800 or > 0xDFFF && !char.IsControl(char.ConvertFromUtf32((int)cp), 0))
                        u = char.ConvertFromUtf32((int)cp);
                    if (c == null && u == null) { sb.Append(e); break; } // not an escape we know: the rest verbatim
                    if (c != null) sb.Append(c.Value); else sb.Append(u);
                    e = e[(end + 2)..];
                }
                else
                {
                    int stop = e.IndexOfAny('$', '.');
                    if (stop < 0) stop = e.Length;
                    sb.Append(e[..stop]);
                    e = e[stop..];
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>The v0 scheme: a recursive-descent parser printing as it parses.</summary>
    private sealed class V0
    {
        private const int MaxDepth = 500;
        private const int MaxOutput = 1 << 20;
        private readonly string _s;
        private readonly bool _verbose;
        private int _pos, _depth, _boundLifetimes;
        private StringBuilder? _out; // null while a part is parsed without being printed (an impl's own path)

        private sealed class Invalid : Exception;

        private V0(string s, bool verbose, StringBuilder sb) { _s = s; _verbose = verbose; _out = sb; }

        public static string? Demangle(string sym, bool verbose, out string rest)
        {
            rest = "";
            string inner = sym.StartsWith("_R", StringComparison.Ordinal) ? sym[2..]
                : sym.StartsWith("__R", StringComparison.Ordinal) ? sym[3..]
                : sym.StartsWith('R') ? sym[1..] : "";
            if (inner.Length == 0 || !char.IsAsciiLetterUpper(inner[0]) || inner.Any(c => c >= 0x80)) return null;
            var sb = new StringBuilder();
            var p = new V0(inner, verbose, sb);
            try
            {
                p.Path(inValue: true);
                // An optional instantiating crate follows; it is not printed.
                if (p._pos < inner.Length && char.IsAsciiLetterUpper(inner[p._pos]))
                {
                    p._out = null;
                    p.Path(inValue: false);
                }
            }
            catch (Exception e) when (e is Invalid or OverflowException) { return null; }
            rest = inner[p._pos..];
            return sb.ToString();
        }

        private void Print(string s)
        {
            if (_out == null) return;
            _out.Append(s);
            if (_out.Length > MaxOutput) throw new Invalid();
        }

        private void Print(char c) => Print(c.ToString());

        private char Peek() => _pos < _s.Length ? _s[_pos] : '\0';

        private bool Eat(char c)
        {
            if (Peek() != c) return false;
            _pos++;
            return true;
        }

        private char Next() => _pos < _s.Length ? _s[_pos++] : throw new Invalid();

        private void Push() { if (++_depth > MaxDepth) throw new Invalid(); }

        private void Pop() => _depth--;

        private ulong Base62()
        {
            if (Eat('_')) return 0;
            ulong x = 0;
            while (!Eat('_'))
            {
                char c = Next();
                ulong d = c switch
                {
                    >= '0' and <= '9' => (ulong)(c - '0'),
                    >= 'a' and <= 'z' => (ulong)(c - 'a' + 10),
                    >= 'A' and <= 'Z' => (ulong)(c - 'A' + 36),
                    _ => throw new Invalid(),
                };
                x = checked(x * 62 + d);
            }
            return checked(x + 1);
        }

        private ulong OptBase62(char tag) => Eat(tag) ? checked(Base62() + 1) : 0;

        private ulong Disambiguator() => OptBase62('s');

        private (string Ascii, string Puny) Ident()
        {
            bool puny = Eat('u');
            if (!char.IsAsciiDigit(Peek())) throw new Invalid();
            long len = Next() - '0';
            if (len != 0)
                while (char.IsAsciiDigit(Peek())) { len = len * 10 + (Next() - '0'); if (len > _s.Length) throw new Invalid(); }
            Eat('_');
            if (_pos + len > _s.Length) throw new Invalid();
            string id = _s.Substring(_pos, (int)len);
            _pos += (int)len;
            if (!puny) return (id, "");
            int u = id.LastIndexOf('_');
            var r = u < 0 ? ("", id) : (id[..u], id[(u + 1)..]);
            if (r.Item2.Length == 0) throw new Invalid();
            return r;
        }

        private static string IdentText((string Ascii, string Puny) id)
        {
            if (id.Puny.Length == 0) return id.Ascii;
            return Punycode(id.Ascii, id.Puny) ?? ("punycode{" + (id.Ascii.Length > 0 ? id.Ascii + "-" : "") + id.Puny + "}");
        }

        // RFC 3492 decoding with the parameters it fixes (base 36, tmin 1, tmax 26, skew 38, damp 700, bias 72, n 128);
        // Rust spells digits a-z then 0-9 and puts the basic code points before the last '_'.
        private static string? Punycode(string ascii, string puny)
        {
            var output = new List<int>();
            foreach (var c in ascii) output.Add(c);
            long n = 0x80, i = 0, bias = 72, damp = 700;
            int p = 0;
            while (true)
            {
                long delta = 0, w = 1;
                for (long k = 36; ; k += 36)
                {
                    if (p >= puny.Length) return null;
                    char c = puny[p++];
                    long d = c is >= 'a' and <= 'z' ? c - 'a' : c is >= '0' and <= '9' ? 26 + (c - '0') : -1;
                    if (d < 0) return null;
                    delta += d * w;
                    long t = Math.Clamp(k - bias, 1, 26);
                    if (delta > int.MaxValue) return null;
                    if (d < t) break;
                    w *= 36 - t;
                }
                int len = output.Count + 1;
                i += delta;
                n += i / len;
                i %= len;
                if (n > 0x10FFFF || n is >= 0xD800 and <= 0xDFFF) return null;
                output.Insert((int)i, (int)n);
                i++;
                if (p >= puny.Length) break;
                delta /= damp;
                damp = 2;
                delta += delta / len;
                long kk = 0;
                while (delta > 35 * 26 / 2) { delta /= 35; kk += 36; }
                bias = kk + 36 * delta / (delta + 38);
            }
            var sb = new StringBuilder();
            foreach (var cp in output) sb.Append(char.ConvertFromUtf32(cp));
            return sb.ToString();
        }

        // Follows a back-reference (B<base-62>) to an earlier position; while not printing, only its index is read.
        private void Backref(Action then)
        {
            int at = _pos - 1;
            ulong target = Base62();
            if (target >= (ulong)at) throw new Invalid();
            if (_out == null) return;
            int save = _pos;
            _pos = (int)target;
            Push();
            then();
            Pop();
            _pos = save;
        }

        private void Path(bool inValue)
        {
            Push();
            char tag = Next();
            switch (tag)
            {
                case 'C':
                {
                    ulong dis = Disambiguator();
                    Print(IdentText(Ident()));
                    if (_verbose && dis != 0) Print("[" + dis.ToString("x", CultureInfo.InvariantCulture) + "]");
                    break;
                }
                case 'N':
                {
                    char ns = Next();
                    if (!char.IsAsciiLetter(ns)) throw new Invalid();
                    Path(inValue);
                    ulong dis = Disambiguator();
                    var id = Ident();
                    bool named = id.Ascii.Length > 0 || id.Puny.Length > 0;
                    if (char.IsAsciiLetterUpper(ns))
                    {
                        Print("::{");
                        Print(ns switch { 'C' => "closure", 'S' => "shim", _ => ns.ToString() });
                        if (named) Print(":" + IdentText(id));
                        Print("#" + dis.ToString(CultureInfo.InvariantCulture) + "}");
                    }
                    else if (named) Print("::" + IdentText(id));
                    break;
                }
                case 'M' or 'X' or 'Y':
                {
                    if (tag != 'Y')
                    {
                        Disambiguator();
                        var saved = _out;
                        _out = null;
                        Path(false);
                        _out = saved;
                    }
                    Print("<");
                    Type();
                    if (tag != 'M') { Print(" as "); Path(false); }
                    Print(">");
                    break;
                }
                case 'I':
                    Path(inValue);
                    if (inValue) Print("::");
                    Print("<");
                    List(GenericArg, ", ");
                    Print(">");
                    break;
                case 'B':
                    Backref(() => Path(inValue));
                    break;
                default:
                    throw new Invalid();
            }
            Pop();
        }

        private int List(Action item, string separator)
        {
            int n = 0;
            while (!Eat('E'))
            {
                if (_pos >= _s.Length) throw new Invalid();
                if (n++ > 0) Print(separator);
                item();
            }
            return n;
        }

        private void GenericArg()
        {
            if (Eat('L')) Lifetime(Base62());
            else if (Eat('K')) Const(false);
            else Type();
        }

        private void Lifetime(ulong index)
        {
            if (_out == null) return;
            Print("'");
            if (index == 0) { Print("_"); return; }
            if (index > (ulong)_boundLifetimes) throw new Invalid();
            ulong depth = (ulong)_boundLifetimes - index;
            Print(depth < 26 ? ((char)('a' + (int)depth)).ToString() : "_" + depth.ToString(CultureInfo.InvariantCulture));
        }

        private void Binder(Action inner)
        {
            ulong n = OptBase62('G');
            if (n > 1000) throw new Invalid();
            if (n > 0 && _out != null)
            {
                Print("for<");
                for (ulong k = 0; k < n; k++)
                {
                    if (k > 0) Print(", ");
                    _boundLifetimes++;
                    Lifetime(1);
                }
                Print("> ");
            }
            else if (_out == null) n = 0;
            inner();
            _boundLifetimes -= (int)n;
        }

        private static string? BasicType(char tag) => tag switch
        {
            'b' => "bool", 'c' => "char", 'e' => "str", 'u' => "()", 'a' => "i8", 's' => "i16", 'l' => "i32",
            'x' => "i64", 'n' => "i128", 'i' => "isize", 'h' => "u8", 't' => "u16", 'm' => "u32", 'y' => "u64",
            'o' => "u128", 'j' => "usize", 'f' => "f32", 'd' => "f64", 'z' => "!", 'p' => "_", 'v' => "...",
            _ => null,
        };

        private void Type()
        {
            char tag = Next();
            if (BasicType(tag) is { } basic) { Print(basic); return; }
            Push();
            switch (tag)
            {
                case 'R' or 'Q':
                    Print("&");
                    if (Eat('L'))
                    {
                        ulong lt = Base62();
                        if (lt != 0) { Lifetime(lt); Print(" "); }
                    }
                    if (tag == 'Q') Print("mut ");
                    Type();
                    break;
                case 'P' or 'O':
                    Print(tag == 'P' ? "*const " : "*mut ");
                    Type();
                    break;
                case 'A' or 'S':
                    Print("[");
                    Type();
                    if (tag == 'A') { Print("; "); Const(true); }
                    Print("]");
                    break;
                case 'T':
                    Print("(");
                    if (List(Type, ", ") == 1) Print(",");
                    Print(")");
                    break;
                case 'F':
                    Binder(FnSig);
                    break;
                case 'D':
                    Print("dyn ");
                    Binder(() => List(DynTrait, " + "));
                    if (!Eat('L')) throw new Invalid();
                    ulong l = Base62();
                    if (l != 0) { Print(" + "); Lifetime(l); }
                    break;
                case 'B':
                    Backref(Type);
                    break;
                case 'W':
                    Type();
                    Print(" is ");
                    Pattern();
                    break;
                default:
                    _pos--;
                    Path(false);
                    break;
            }
            Pop();
        }

        private void FnSig()
        {
            bool isUnsafe = Eat('U');
            string? abi = null;
            if (Eat('K'))
            {
                if (Eat('C')) abi = "C";
                else
                {
                    var id = Ident();
                    if (id.Ascii.Length == 0 || id.Puny.Length != 0) throw new Invalid();
                    abi = id.Ascii.Replace('_', '-');
                }
            }
            if (isUnsafe) Print("unsafe ");
            if (abi != null) Print("extern \"" + abi + "\" ");
            Print("fn(");
            List(Type, ", ");
            Print(")");
            if (!Eat('u')) { Print(" -> "); Type(); }
        }

        // A trait of a trait object, with its associated-type bindings inside the trait's generic brackets.
        private void DynTrait()
        {
            bool open = PathMaybeOpen();
            while (Eat('p'))
            {
                Print(open ? ", " : "<");
                open = true;
                Print(IdentText(Ident()) + " = ");
                if (Eat('K')) Const(false); else Type();
            }
            if (open) Print(">");
        }

        private bool PathMaybeOpen()
        {
            if (Eat('B'))
            {
                bool open = false;
                Backref(() => open = PathMaybeOpen());
                return open;
            }
            if (Eat('I'))
            {
                Path(false);
                Print("<");
                List(GenericArg, ", ");
                return true;
            }
            Path(false);
            return false;
        }

        private void Pattern()
        {
            char tag = Next();
            switch (tag)
            {
                case 'R':
                    Const(false);
                    Print("..=");
                    Const(false);
                    break;
                case 'O':
                    Push();
                    Pattern();
                    while (!Eat('E'))
                    {
                        if (_pos >= _s.Length) throw new Invalid();
                        Print(" | ");
                        Pattern();
                    }
                    Pop();
                    break;
                case 'N':
                    Print("!null");
                    break;
                default:
                    throw new Invalid();
            }
        }

        private string HexNibbles()
        {
            int start = _pos;
            while (true)
            {
                char c = Next();
                if (c == '_') break;
                if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f')) throw new Invalid();
            }
            return _s[start..(_pos - 1)];
        }

        private static ulong? HexValue(string nibbles)
        {
            var t = nibbles.TrimStart('0');
            if (t.Length > 16) return null;
            return t.Length == 0 ? 0 : ulong.Parse(t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        private void Const(bool inValue)
        {
            char tag = Next();
            Push();
            bool brace = false;
            void Open() { if (!inValue) { brace = true; Print("{"); } }
            switch (tag)
            {
                case 'p':
                    Print("_");
                    break;
                case 'h' or 't' or 'm' or 'y' or 'o' or 'j':
                    ConstUint(tag);
                    break;
                case 'a' or 's' or 'l' or 'x' or 'n' or 'i':
                    if (Eat('n')) Print("-");
                    ConstUint(tag);
                    break;
                case 'b':
                    Print(HexValue(HexNibbles()) switch { 0 => "false", 1 => "true", _ => throw new Invalid() });
                    break;
                case 'c':
                {
                    var v = HexValue(HexNibbles());
                    if (v is not { } cp || cp > 0x10FFFF || cp is >= 0xD800 and <= 0xDFFF) throw new Invalid();
                    Print(Quote('\'', char.ConvertFromUtf32((int)cp)));
                    break;
                }
                case 'e':
                    Open();
                    Print("*");
                    Print(StrLiteral());
                    break;
                case 'R' or 'Q':
                    if (tag == 'R' && Eat('e')) Print(StrLiteral());
                    else
                    {
                        Open();
                        Print(tag == 'R' ? "&" : "&mut ");
                        Const(true);
                    }
                    break;
                case 'A':
                    Open();
                    Print("[");
                    List(() => Const(true), ", ");
                    Print("]");
                    break;
                case 'T':
                    Open();
                    Print("(");
                    if (List(() => Const(true), ", ") == 1) Print(",");
                    Print(")");
                    break;
                case 'V':
                    Open();
                    Path(true);
                    switch (Next())
                    {
                        case 'U':
                            break;
                        case 'T':
                            Print("(");
                            List(() => Const(true), ", ");
                            Print(")");
                            break;
                        case 'S':
                            Print(" { ");
                            List(() =>
                            {
                                Disambiguator();
                                Print(IdentText(Ident()) + ": ");
                                Const(true);
                            }, ", ");
                            Print(" }");
                            break;
                        default:
                            throw new Invalid();
                    }
                    break;
                case 'B':
                    Backref(() => Const(inValue));
                    break;
                default:
                    throw new Invalid();
            }
            if (brace) Print("}");
            Pop();
        }

        private void ConstUint(char typeTag)
        {
            var hex = HexNibbles();
            Print(HexValue(hex) is { } v ? v.ToString(CultureInfo.InvariantCulture) : "0x" + hex);
            if (_verbose) Print(BasicType(typeTag)!);
        }

        private string StrLiteral()
        {
            var hex = HexNibbles();
            if (hex.Length % 2 != 0) throw new Invalid();
            var bytes = Convert.FromHexString(hex);
            string s;
            try { s = new UTF8Encoding(false, true).GetString(bytes); }
            catch (DecoderFallbackException) { throw new Invalid(); }
            return Quote('"', s);
        }

        // Rust's char::escape_debug, except that the other kind of quote is not escaped.
        private static string Quote(char quote, string text)
        {
            var sb = new StringBuilder().Append(quote);
            for (int i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
            {
                int cp = char.ConvertToUtf32(text, i);
                switch (cp)
                {
                    case '\t': sb.Append("\\t"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\0': sb.Append("\\0"); break;
                    case '\'' when quote == '\'': sb.Append("\\'"); break;
                    case '"' when quote == '"': sb.Append("\\\""); break;
                    default:
                        if (cp < 0x20 || cp == 0x7f || (cp < 0x10000 && char.IsControl((char)cp)))
                            sb.Append("\\u{").Append(cp.ToString("x", CultureInfo.InvariantCulture)).Append('}');
                        else sb.Append(char.ConvertFromUtf32(cp));
                        break;
                }
            }
            return sb.Append(quote).ToString();
        }
    }
}
