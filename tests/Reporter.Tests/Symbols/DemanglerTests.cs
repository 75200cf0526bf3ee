using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

public class DemanglerTests(ITestOutputHelper output)
{
    private static readonly string VectorsPath = Path.Combine(AppContext.BaseDirectory, "Data", "demangle", "rustc-demangle-vectors.tsv");

    public static IEnumerable<object[]> RustVectors() =>
        File.ReadLines(VectorsPath).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('\t')).Select(f => new object[] { f[0], f[1], f[2] });

    // RustDemangler is internal; reach it the way the symbolizer does not need to (the plain, hashed form is only for these vectors).
    private static string? Rust(string mangled, bool withHash) =>
        (string?)typeof(Demangler).Assembly.GetType("XenProf.Reporter.Symbols.SymbolsInternal.RustDemangler")!
            .GetMethod("Demangle", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [mangled, withHash]);

    [Theory]
    [MemberData(nameof(RustVectors))]
    public void RustcDemangleVectors(string mode, string mangled, string expected)
    {
        switch (mode)
        {
            case "hash": Assert.Equal(expected, Rust(mangled, true)); break;
            case "nohash": Assert.Equal(expected, Rust(mangled, false)); break;
            default: Assert.Null(Rust(mangled, false)); break;
        }
    }

    [Fact]
    public void RustVectorsFileIsComplete() => Assert.True(RustVectors().Count() > 90, "vectors file lost lines");

    [Fact]
    public void RustDepthAndExplosionLimitsGiveTheRawName()
    {
        // rustc-demangle's limit_recursion and recursion_limit_backref_free_bypass vectors: shown raw here.
        Assert.Equal("_RNvB_1a", Demangler.Demangle("_RNvB_1a", DemangleStyle.Normal));
        var deep = "_RIC100000" + new string('R', 100_000) + "B9_E";
        Assert.Equal(deep, Demangler.Demangle(deep, DemangleStyle.Normal));
        // demangle_exponential_explosion: 2^6 copies of `_` through nested back-references.
        var boom = Demangler.Demangle("_RMC0TTTTTTpB8_EB7_EB6_EB5_EB4_EB3_E", DemangleStyle.Normal);
        Assert.Equal(64, boom.Count(c => c == '_'));
    }

    // Expected strings are what perf 6.1 (Debian, libiberty without DMGL_PARAMS) and `c++filt -p` print for these names.
    [Theory]
    [InlineData("_ZN2ns3BoxIdE4spinEi.isra.0", "ns::Box<double>::spin")]
    [InlineData("_ZN2ns4workIlEET_RSt6vectorIS1_SaIS1_EEi", "ns::work<long>")]
    [InlineData("_ZZN2ns4workIlEET_RSt6vectorIS1_SaIS1_EEiENKUliE_clEi", "ns::work<long>(std::vector<long, std::allocator<long> >&, int)::{lambda(int)#1}::operator()")]
    [InlineData("_ZNSt15__exception_ptr13exception_ptrcvMS0_FvvEEv", "std::__exception_ptr::exception_ptr::operator void (std::__exception_ptr::exception_ptr::*)()")]
    [InlineData("_ZN9__gnu_cxx18stdio_sync_filebufIcSt11char_traitsIcEEaSEOS3_", "__gnu_cxx::stdio_sync_filebuf<char, std::char_traits<char> >::operator=")]
    [InlineData("_ZNKSt7collateIcE7compareEPKcS2_S2_S2_", "std::collate<char>::compare")]
    [InlineData("_ZNSs4sizeEv", "std::string::size")]
    [InlineData("_ZThn16_NSdD1Ev", "non-virtual thunk to std::basic_iostream<char, std::char_traits<char> >::~basic_iostream()")]
    [InlineData("_ZlsRSoRKSt6vectorIiSaIiEE", "operator<<")]
    [InlineData("_ZN1AltIiEEbRKS_", "A::operator< <int>")]
    [InlineData("_ZN12_GLOBAL__N_13fooEv", "(anonymous namespace)::foo")]
    [InlineData("_ZNKSt6vectorIiSaIiEE4sizeEv@GLIBCXX_3.4", "std::vector<int, std::allocator<int> >::size")]
    [InlineData("main", "main")]
    [InlineData("__fmod_finite@GLIBC_2.15", "__fmod_finite@GLIBC_2.15")]
    [InlineData("_Znotmangled", "_Znotmangled")]
    public void CxxAsPerfPrintsIt(string mangled, string expected) => Assert.Equal(expected, Demangler.Demangle(mangled, DemangleStyle.Normal));

    [Theory]
    [InlineData("_ZN2ns3BoxIdE4spinEi.isra.0", "ns::Box<double>::spin(int) [clone .isra.0]")]
    [InlineData("_ZN2ns4workIlEET_RSt6vectorIS1_SaIS1_EEi", "long ns::work<long>(std::vector<long, std::allocator<long> >&, int)")]
    [InlineData("_ZNKSt6vectorIiSaIiEE4sizeEv@GLIBCXX_3.4", "std::vector<int, std::allocator<int> >::size() const@GLIBCXX_3.4")]
    public void CxxFullSignature(string mangled, string expected) => Assert.Equal(expected, Demangler.Demangle(mangled, DemangleStyle.Full));

    [Theory]
    [InlineData("_ZN2ns4workIlEET_RSt6vectorIS1_SaIS1_EEi", "ns::work<long>")]
    [InlineData("_ZNKSt6vectorIiSaIiEE4sizeEv", "vector<int>::size")]
    [InlineData("_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE7reserveEm", "string::reserve")]
    [InlineData("_ZNSt3mapIiSt6vectorIdSaIdEESt4lessIiESaISt4pairIKiS2_EEEixERS6_", "map<int, vector<double>>::operator[]")]
    [InlineData("_ZNKSt3setIlSt4lessIlESaIlEE4findERKl", "set<long>::find")]
    [InlineData("_ZNSo5writeEPKcl", "ostream::write")]
    [InlineData("_ZN12_GLOBAL__N_13fooIN9__gnu_cxx17__normal_iteratorIPiSt6vectorIiSaIiEEEEEEvT_", "foo<vector<int>::iterator>")]
    public void SmartShortensAsOprofile(string mangled, string expected) => Assert.Equal(expected, Demangler.Demangle(mangled, DemangleStyle.Smart));

    [Fact]
    public void NoneKeepsTheRawName() => Assert.Equal("_ZN2ns3BoxIdE4spinEi.isra.0", Demangler.Demangle("_ZN2ns3BoxIdE4spinEi.isra.0", DemangleStyle.None));

    [Theory]
    [InlineData("none", DemangleStyle.None)]
    [InlineData("Normal", DemangleStyle.Normal)]
    [InlineData("smart", DemangleStyle.Smart)]
    [InlineData("full", DemangleStyle.Full)]
    public void ParsesStyles(string text, DemangleStyle style) => Assert.Equal(style, Demangler.ParseStyle(text));

    [Fact]
    public void RejectsUnknownStyle() => Assert.Contains("none, normal, smart or full", Assert.Throws<ArgumentException>(() => Demangler.ParseStyle("pretty")).Message);

    /// <summary>
    /// Every name perf 6.1 lists for libstdc++'s symbols (<c>perf probe -x LIB -F --filter='*'</c>, which keeps aliases and
    /// demangles as <c>perf report</c> does) is the demangled form of one of the file's defined dynamic symbols
    /// (<c>readelf --dyn-syms</c>), and the other way round: C++ demangling agrees with perf on some 3,800 real names.
    /// </summary>
    [Fact]
    public void LibstdcxxNamesEqualPerfs()
    {
        const string lib = "/lib/x86_64-linux-gnu/libstdc++.so.6";
        if (!File.Exists(lib) || !Tools.Has("perf") || !Tools.Has("readelf")) { output.WriteLine($"skipped: needs {lib}, readelf and perf"); return; }
        string listed;
        try { listed = Tools.Run("perf", "probe", "-x", lib, "-F", "--filter=*"); }
        catch (InvalidOperationException e) { output.WriteLine("skipped: perf probe does not run here: " + e.Message); return; }
        var perf = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => !n.EndsWith("@plt", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        // perf's symbol filter: defined functions, ifuncs and data objects (not TLS), not absolute ones.
        var raw = Tools.Run("readelf", false, "--dyn-syms", "-W", lib).Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 8 && f[3] is "FUNC" or "IFUNC" or "OBJECT" && f[6] is not ("UND" or "ABS"))
            .Select(f => f[7].Split('@')[0]);
        var ours = raw.Select(n => Demangler.Demangle(n, DemangleStyle.Normal)).ToHashSet(StringComparer.Ordinal);
        var onlyPerf = perf.Except(ours).Order(StringComparer.Ordinal).ToList();
        var onlyOurs = ours.Except(perf).Order(StringComparer.Ordinal).ToList();
        output.WriteLine($"perf {perf.Count}, ours {ours.Count}");
        foreach (var n in onlyPerf.Take(20)) output.WriteLine("perf only: " + n);
        foreach (var n in onlyOurs.Take(20)) output.WriteLine("ours only: " + n);
        Assert.True(perf.Count > 3000, $"perf listed only {perf.Count} names");
        Assert.Empty(onlyPerf);
        Assert.Empty(onlyOurs);
    }
}
