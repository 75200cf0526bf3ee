using XenProf.Reporter.Symbols.SymbolsInternal;

namespace XenProf.Reporter.Symbols;

/// <summary>How symbol names are shown (<c>--demangle=</c>, after oprofile's option of that name).</summary>
public enum DemangleStyle
{
    /// <summary>The raw symbol name, as in the string table (<c>perf report --no-demangle</c>, oprofile's <c>none</c>).</summary>
    None,

    /// <summary>
    /// Demangled as <c>perf report</c> 6.1 prints it, the default: C++ without the parameter list, return type, function
    /// qualifiers or clone suffix (perf passes no <c>DMGL_PARAMS</c> to the demangler unless <c>-v</c>), e.g.
    /// <c>ns::work&lt;long&gt;</c>; Rust legacy names without the <c>::h&lt;hash&gt;</c> element; Rust v0 names without
    /// crate disambiguators.
    /// </summary>
    Normal,

    /// <summary><see cref="Normal"/>, then shortened as oprofile's <c>--demangle=smart</c> does (its <c>stl.pat</c>
    /// rules): <c>std::</c> dropped, default template arguments removed, <c>basic_string&lt;char&gt;</c> named
    /// <c>string</c>… (see <c>SmartNames</c>).</summary>
    Smart,

    /// <summary>The complete C++ signature (parameters, return type of templates, qualifiers, clone suffixes), as
    /// oprofile's <c>--demangle=normal</c> and <c>perf report -v</c> print it; Rust as in <see cref="Normal"/>.</summary>
    Full,
}

/// <summary>
/// Demangles symbol names as perf 6.1 does in <c>tools/perf/util/symbol-elf.c</c> <c>demangle_sym</c>: names starting
/// <c>_R</c> are Rust v0; <c>_ZN…17h&lt;16 hex digits&gt;E</c> names are Rust legacy (the test libiberty's
/// <c>rust_demangle</c> applies before trying C++); other <c>_Z</c> names are C++ (Itanium ABI) through libstdc++'s
/// <c>__cxa_demangle</c>. Anything else, or a name that does not demangle, comes back unchanged. A suffix after
/// <c>@</c> (a symbol version) is kept in <see cref="DemangleStyle.Full"/> and dropped with the rest of the
/// encoding's trailing text otherwise, as libiberty ignores what follows the name when not printing parameters.
/// Thread-safe; results are not cached here.
/// </summary>
public static class Demangler
{
    /// <summary>The name <paramref name="raw"/> as <paramref name="style"/> shows it (never null, never throws).</summary>
    public static string Demangle(string raw, DemangleStyle style)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (style == DemangleStyle.None || raw.Length < 3) return raw;
        string? d = null;
        if (raw.StartsWith("_R", StringComparison.Ordinal) || raw.StartsWith("__R", StringComparison.Ordinal))
            d = RustDemangler.Demangle(raw, withHash: false);
        else if (raw.StartsWith("_Z", StringComparison.Ordinal) || raw.StartsWith("__Z", StringComparison.Ordinal))
            d = RustDemangler.IsLegacy(raw) ? RustDemangler.Demangle(raw, withHash: false) : CxxDemangler.Demangle(raw, full: style == DemangleStyle.Full);
        if (d == null) return raw;
        return style == DemangleStyle.Smart ? SmartNames.Shorten(d) : d;
    }

    /// <summary>Parses a <c>--demangle=</c> value: <c>none</c>, <c>normal</c>, <c>smart</c> or <c>full</c> (case ignored).</summary>
    /// <exception cref="ArgumentException">Any other value; the message lists the accepted ones.</exception>
    public static DemangleStyle ParseStyle(string value) => value.Trim().ToLowerInvariant() switch
    {
        "none" => DemangleStyle.None,
        "normal" => DemangleStyle.Normal,
        "smart" => DemangleStyle.Smart,
        "full" => DemangleStyle.Full,
        _ => throw new ArgumentException($"--demangle={value}: expected none, normal, smart or full", nameof(value)),
    };
}
