using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text.TextInternal;

namespace XenProf.Reporter.Text;

/// <summary>
/// Fills each symbol's <see cref="SymbolRow.Source"/> for opreport <c>-g/--debug-info</c>: the source file and line of the
/// function's start address, as oprofile's opreport shows "source file and line for each symbol" (opreport(1)). Lines
/// come from the DWARF line table through the same path <see cref="OpannotateWriter"/> uses (<c>addr2line</c> on the
/// image's file, or its separate debug file), one <c>addr2line</c> run per image.
/// </summary>
public static class OpreportDebugInfo
{
    /// <summary>
    /// Looks up the start of every symbol of <paramref name="p"/>, which must be built with
    /// <see cref="ProfileOptions.WithDetails"/> (symbol starts), through <paramref name="symbolizer"/> (the one the profile
    /// was built with). Symbols of images without line tables (the kernel, JIT code, stripped files) and
    /// <see cref="Profile.Profile.NoSymbols"/> rows keep a null <see cref="SymbolRow.Source"/>. Never throws for a missing
    /// tool or file.
    /// </summary>
    public static void Attach(Profile.Profile p, Symbolizer symbolizer)
    {
        var lines = new SourceLines();
        foreach (var group in p.Symbols.Where(r => r.Symbol != Profile.Profile.NoSymbols && r.Start != 0).GroupBy(r => r.ImageRow))
        {
            if (FunctionAnnotation.CodeKind(group.Key.Image, symbolizer) is not { } ck || FunctionAnnotation.DebugInfoFile(symbolizer, ck) is not { } debugFile)
                continue;
            var rows = group.ToList();
            var found = lines.Lookup(debugFile, rows.Select(r => r.Start).Distinct().ToList());
            foreach (var r in rows)
                if (found.TryGetValue(r.Start, out var at)) r.Source = new SourceLocation(at.File, at.Line);
        }
    }
}
