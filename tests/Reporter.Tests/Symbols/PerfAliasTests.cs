using Xunit;
using Xunit.Abstractions;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// Alias choice on the system's libc and libm with their separate debug files (Debian's libc6-dbg): the name kept at
/// an address is the one perf 6.1's choose_best_symbol keeps, e.g. <c>__memmove_avx512_unaligned_erms</c> over its
/// <c>__memcpy</c> twin (longer name), <c>__fmod_finite@GLIBC_2.15</c> (the debug file's .symtab spelling of a
/// non-default version, global) over <c>__ieee754_fmod</c> (local), <c>__fmod</c> (local) over the weak <c>fmod</c>,
/// and <c>__GI___libc_write</c> over <c>__libc_write</c> and the weak <c>write</c>.
/// </summary>
public class PerfAliasTests(ITestOutputHelper output)
{
    private const string Libc = "/lib/x86_64-linux-gnu/libc.so.6", Libm = "/lib/x86_64-linux-gnu/libm.so.6";

    [Theory]
    [InlineData(Libc, "__memcpy_avx512_unaligned_erms", "__memmove_avx512_unaligned_erms")]
    [InlineData(Libc, "__libc_write", "__GI___libc_write")]
    [InlineData(Libc, "write", "__GI___libc_write")]
    [InlineData(Libm, "__ieee754_fmod", "__fmod_finite@GLIBC_2.15")]
    [InlineData(Libm, "fmod", "__fmod")]
    public void KeepsTheAliasPerfKeeps(string image, string anyAlias, string expected)
    {
        using var s = new Symbolizer(new SymbolizerOptions { KallsymsPath = "/nonexistent", UseRunningVdso = false, CacheDirectory = null, BuildIdCacheDirectory = null });
        var f = s.GetImage(image);
        if (f?.DebugFilePath is not { } debug) { output.WriteLine($"skipped: no debug file for {image} (apt-get install libc6-dbg)"); return; }
        ulong? addr = null;
        foreach (var line in Tools.Run("readelf", false, "-sW", debug).Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length >= 8 && p[7] == anyAlias && p[3] is "FUNC" or "IFUNC") { addr = Convert.ToUInt64(p[1], 16); break; }
        }
        if (addr is not { } a) { output.WriteLine($"skipped: {debug} has no {anyAlias}"); return; }
        var r = s.FindFunction(image, new Svma(a + 1));
        Assert.NotNull(r);
        Assert.Equal((expected, a), (r.Value.Name, r.Value.Start));
    }
}
