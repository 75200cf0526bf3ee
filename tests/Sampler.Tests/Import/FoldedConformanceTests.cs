using System.IO.Compression;
using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// perf script text → folded stacks, byte for byte (not after sorting) against the outputs of stackcollapse-perf.pl
/// and inferno kept in Data/perf-script (provenance in its SOURCES.md). Each expected file names its option set in its
/// suffix, <c>NAME-collapsed[-OPT[-OPT]].txt</c> (none = default options), as FlameGraph's test.sh and inferno's harness
/// name them. FlameGraph's stored results are compared with HEAD's output where HEAD no longer reproduces them
/// (expected-at-HEAD); inferno's results with the inferno dialect.
/// </summary>
public sealed class FoldedConformanceTests(ITestOutputHelper output)
{
    internal static string DataDir => Path.Combine(AppContext.BaseDirectory, "Data", "perf-script");

    /// <summary>(dialect, input, expected, options) per expected file, paths relative to <see cref="DataDir"/>.</summary>
    public static IEnumerable<object[]> Cases()
    {
        var list = new List<object[]>();
        string fg = "flamegraph";
        foreach (var e in Files(Path.Combine(fg, "expected")))
        {
            var (stem, opt) = Split(e);
            var head = Path.Combine(fg, "expected-at-HEAD", Path.GetFileName(e));
            list.Add(["flamegraph", Input(Path.Combine(fg, "inputs"), stem), File.Exists(Path.Combine(DataDir, head)) ? head : e, opt]);
        }
        foreach (var e in Files(Path.Combine(fg, "expected-default-at-HEAD")))
        {
            var (stem, opt) = Split(e);
            list.Add(["flamegraph", Input(Path.Combine(fg, "inputs"), stem), e, opt]);
        }
        foreach (var e in Files(Path.Combine("stackcollapse-head", "expected")))
        {
            var (stem, opt) = Split(e);
            var input = stem.StartsWith("inferno-", StringComparison.Ordinal) ? Input("inferno", stem[8..]) : Input(Path.Combine(fg, "inputs"), stem);
            list.Add(["flamegraph", input, e, opt]);
        }
        foreach (var e in Files("edge").Where(f => f.Contains("-collapsed", StringComparison.Ordinal)))
        {
            var (stem, opt) = Split(e);
            list.Add(["flamegraph", Input("edge", stem), e, opt]);
        }
        foreach (var e in Files(Path.Combine("inferno", "results")))
        {
            var (stem, opt) = Split(e);
            var input = Directory.GetFiles(Path.Combine(DataDir, "inferno"), stem + ".txt*").Length > 0 ? Input("inferno", stem) : Input(Path.Combine(fg, "inputs"), stem);
            list.Add(["inferno", input, e, opt]);
        }
        return list;
    }

    private static IEnumerable<string> Files(string relDir) =>
        Directory.GetFiles(Path.Combine(DataDir, relDir)).Select(f => Path.GetRelativePath(DataDir, f)).Order(StringComparer.Ordinal);

    private static (string Stem, string Options) Split(string relative)
    {
        var name = Path.GetFileName(relative);
        if (name.EndsWith(".gz", StringComparison.Ordinal)) name = name[..^3];
        int at = name.LastIndexOf("-collapsed", StringComparison.Ordinal);
        return (name[..at], name[(at + 10)..^4].TrimStart('-'));
    }

    private static string Input(string relDir, string stem) =>
        File.Exists(Path.Combine(DataDir, relDir, stem + ".txt")) ? Path.Combine(relDir, stem + ".txt") : Path.Combine(relDir, stem + ".txt.gz");

    internal static byte[] Bytes(string relative)
    {
        var path = Path.Combine(DataDir, relative);
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return File.ReadAllBytes(path);
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>stackcollapse-perf.pl's flags, <c>-</c>-separated as in the file names, as options.</summary>
    internal static CollapseOptions OptionsOf(string options, CollapseDialect dialect)
    {
        var o = new CollapseOptions { Dialect = dialect };
        foreach (var opt in options.Split('-', StringSplitOptions.RemoveEmptyEntries))
            o = opt switch
            {
                "pid" => o with { Pid = true },
                "tid" => o with { Tid = true },
                "kernel" => o with { Kernel = true },
                "jit" => o with { Jit = true },
                "all" => o with { Kernel = true, Jit = true },
                "addrs" => o with { Addrs = true },
                "srcline" => o with { Srcline = true },
                _ => throw new ArgumentException("unknown option in a file name: " + opt),
            };
        return o;
    }

    [Fact]
    public void Corpus_IsComplete()
    {
        var cases = Cases().ToList();
        // FlameGraph: 13 inputs × 6 options (test.sh) + 13 default; inferno: 15 results; plus ours (SOURCES.md).
        Assert.Equal(78, cases.Count(c => ((string)c[2]).StartsWith("flamegraph" + Path.DirectorySeparatorChar + "expected" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || ((string)c[2]).StartsWith("flamegraph" + Path.DirectorySeparatorChar + "expected-at-HEAD", StringComparison.Ordinal)));
        Assert.Equal(13, cases.Count(c => ((string)c[2]).Contains("expected-default-at-HEAD", StringComparison.Ordinal)));
        Assert.Equal(15, cases.Count(c => (string)c[0] == "inferno"));
        Assert.All(cases, c => Assert.True(File.Exists(Path.Combine(DataDir, (string)c[1])), (string)c[1]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FoldedEqualsExpected(string dialect, string input, string expected, string options)
    {
        var o = OptionsOf(options, dialect == "inferno" ? CollapseDialect.Inferno : CollapseDialect.FlameGraph);
        var ms = new MemoryStream();
        PerfScriptCollapse.Collapse(new MemoryStream(Bytes(input)), ms, o);
        var actual = ms.ToArray();
        var want = Bytes(expected);
        if (!want.AsSpan().SequenceEqual(actual)) output.WriteLine(FirstDifference(want, actual));
        Assert.True(want.AsSpan().SequenceEqual(actual), $"{input} --{options} ({dialect}) differs from {expected}");
    }

    /// <summary>The first differing line of two outputs, for the test log.</summary>
    internal static string FirstDifference(byte[] want, byte[] actual)
    {
        var a = Encoding.Latin1.GetString(actual).Split('\n');
        var w = Encoding.Latin1.GetString(want).Split('\n');
        for (int i = 0; i < Math.Max(a.Length, w.Length); i++)
            if (i >= a.Length || i >= w.Length || a[i] != w[i])
                return $"line {i + 1}:\n  want {(i < w.Length ? w[i] : "(end)")}\n  got  {(i < a.Length ? a[i] : "(end)")}";
        return "equal";
    }
}
