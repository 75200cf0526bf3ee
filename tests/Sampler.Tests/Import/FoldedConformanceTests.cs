using System.IO.Compression;
using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// perf script text → folded stacks, byte for byte against the FlameGraph and inferno corpora (peer-data
/// flamegraph-tests and inferno; their READMEs say which option made each expected file). FlameGraph files are
/// compared with the FlameGraph dialect (HEAD's output where it differs from the stored file: expected-at-HEAD),
/// inferno's results with the inferno dialect.
/// </summary>
public sealed class FoldedConformanceTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases()
    {
        if (PeerData.Root == null) return [["(absent)", "", "", ""]];
        var list = new List<object[]>();
        var fg = Path.Combine(PeerData.Root, "flamegraph-tests");
        foreach (var e in Directory.GetFiles(Path.Combine(fg, "expected")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(e);
            int at = name.LastIndexOf("-collapsed-", StringComparison.Ordinal);
            var head = Path.Combine(fg, "expected-at-HEAD", name);
            list.Add(["flamegraph", Path.Combine(fg, "inputs", name[..at] + ".txt"), File.Exists(head) ? head : e, name[(at + 11)..^4]]);
        }
        foreach (var e in Directory.GetFiles(Path.Combine(fg, "expected-default-at-HEAD")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(e);
            list.Add(["flamegraph", Path.Combine(fg, "inputs", name[..name.LastIndexOf("-collapsed", StringComparison.Ordinal)] + ".txt"), e, ""]);
        }
        var inf = Path.Combine(PeerData.Root, "inferno", "collapse-perf");
        foreach (var e in Directory.GetFiles(Path.Combine(inf, "results")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(e);
            int at = name.LastIndexOf("-collapsed", StringComparison.Ordinal);
            var stem = name[..at];
            var opt = name[(at + 10)..^4].TrimStart('-');
            var input = File.Exists(Path.Combine(inf, stem + ".txt")) ? Path.Combine(inf, stem + ".txt")
                : File.Exists(Path.Combine(fg, "inputs", stem + ".txt")) ? Path.Combine(fg, "inputs", stem + ".txt")
                : Path.Combine(fg, "inputs", stem + ".txt.gz");
            list.Add(["inferno", input, e, opt]);
        }
        return list;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FoldedEqualsExpected(string dialect, string input, string expected, string option)
    {
        if (PeerData.Root == null) { output.WriteLine("skipped: " + PeerData.Absent); return; }
        var o = new CollapseOptions
        {
            Pid = option == "pid", Tid = option == "tid", Kernel = option is "kernel" or "all", Jit = option is "jit" or "all",
            Addrs = option == "addrs", Dialect = dialect == "inferno" ? CollapseDialect.Inferno : CollapseDialect.FlameGraph,
        };
        using var inStream = input.EndsWith(".gz", StringComparison.Ordinal)
            ? (Stream)new GZipStream(File.OpenRead(input), CompressionMode.Decompress) : File.OpenRead(input);
        var ms = new MemoryStream();
        PerfScriptCollapse.Collapse(inStream, ms, o);
        var actual = Encoding.Latin1.GetString(ms.ToArray());
        var want = Encoding.Latin1.GetString(File.ReadAllBytes(expected));
        if (want != actual)
        {
            var a = actual.Split('\n');
            var w = want.Split('\n');
            for (int i = 0; i < Math.Max(a.Length, w.Length); i++)
                if (i >= a.Length || i >= w.Length || a[i] != w[i])
                {
                    output.WriteLine($"line {i + 1}:\n  want {(i < w.Length ? w[i] : "(end)")}\n  got  {(i < a.Length ? a[i] : "(end)")}");
                    break;
                }
        }
        Assert.True(want == actual, $"{Path.GetFileName(input)} --{option} ({dialect}) differs from {Path.GetFileName(expected)}");
    }
}
