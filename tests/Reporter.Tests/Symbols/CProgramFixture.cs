using Xunit;
namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// Builds a small C program with known functions once per test class, in a temporary directory:
/// <c>prog</c> (PIE), <c>prog-nopie</c> (ET_EXEC), <c>stripped</c> + <c>stripped.debug</c> (debuglink), and
/// <c>other.debug</c> (a debug file of a different build, for mismatch tests).
/// Command: <c>gcc -O2 -fno-omit-frame-pointer -g</c>; see <see cref="Source"/>.
/// </summary>
public sealed class CProgramFixture : IDisposable
{
    public const string Source = """
        #include <stdio.h>
        #include <stdlib.h>
        __attribute__((noinline)) static long xp_static_helper(long x) { for (int i = 0; i < 7; i++) x = x * 31 + i; return x; }
        __attribute__((noinline)) long xp_alpha(long x) { return xp_static_helper(x) ^ 0x55; }
        __attribute__((noinline)) long xp_beta(long x) { long s = 0; for (long i = 0; i < x; i++) s += xp_alpha(i); return s; }
        __attribute__((noinline)) long xp_gamma(long x) { return xp_beta(x) + xp_alpha(x * 3); }
        int main(int argc, char **argv) { printf("%ld\n", xp_gamma(argc > 1 ? atol(argv[1]) : 10)); return 0; }
        """;

    public static readonly string[] Functions = ["xp_static_helper", "xp_alpha", "xp_beta", "xp_gamma", "main"];

    public string? SkipReason { get; }
    public string Dir { get; } = Directory.CreateTempSubdirectory("xenprof-sym-").FullName;
    public string Pie => Path.Combine(Dir, "prog");
    public string NoPie => Path.Combine(Dir, "prog-nopie");
    public string Stripped => Path.Combine(Dir, "stripped");
    public string StrippedDebug => Path.Combine(Dir, "stripped.debug");
    public string OtherDebug => Path.Combine(Dir, "other.debug");

    public CProgramFixture()
    {
        foreach (var t in new[] { "gcc", "strip", "objcopy", "nm", "readelf" })
            if (!Tools.Has(t)) { SkipReason = $"skipped: '{t}' is not installed (CI installs gcc and binutils)"; return; }
        var src = Path.Combine(Dir, "prog.c");
        File.WriteAllText(src, Source);
        Tools.Run("gcc", "-O2", "-fno-omit-frame-pointer", "-g", "-o", Pie, src);
        Tools.Run("gcc", "-O2", "-fno-omit-frame-pointer", "-g", "-no-pie", "-o", NoPie, src);
        File.Copy(Pie, Stripped);
        Tools.Run("objcopy", "--only-keep-debug", Stripped, StrippedDebug);
        Tools.Run("strip", "--strip-all", Stripped);
        Tools.Run("objcopy", "--add-gnu-debuglink=" + StrippedDebug, Stripped);
        var other = Path.Combine(Dir, "other.c");
        File.WriteAllText(other, Source.Replace("0x55", "0x66"));
        var otherBin = Path.Combine(Dir, "other");
        Tools.Run("gcc", "-O2", "-fno-omit-frame-pointer", "-g", "-o", otherBin, other);
        Tools.Run("objcopy", "--only-keep-debug", otherBin, OtherDebug);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
