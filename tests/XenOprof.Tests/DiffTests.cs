using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// Differential profiles on real recordings: the built-in workload recorded twice shows no significant symbol; the
/// shift workload (Data/diff/shift.c) recorded with two arguments flags f and g with opposite signs and leaves h; the
/// CSV reads back through CsvHelper; the differential flame graph's folded form has two counts per stack and its SVG
/// draws g red and f blue.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class DiffTests(ITestOutputHelper output) : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-diff-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly string[] SymbolHeader =
        ["event", "base_samples", "base_percent", "new_samples", "new_percent", "delta_pp", "p_value", "significant", "image", "symbol"];

    internal sealed record Row(string Event, long BaseSamples, double BasePercent, long NewSamples, double NewPercent, double DeltaPp, double PValue,
        bool Significant, string Image, string? Symbol);

    internal static (List<string> Header, List<Row> Rows) ReadCsv(string csv)
    {
        using var r = CsvReader.Create(new StringReader(csv), new CsvReaderOptions { HasHeader = true }, leaveOpen: false);
        var header = r.Headers.ToList();
        var rows = new List<Row>();
        while (r.Read())
            rows.Add(new Row(r.GetString("event"), long.Parse(r.GetString("base_samples"), Inv), double.Parse(r.GetString("base_percent"), Inv),
                long.Parse(r.GetString("new_samples"), Inv), double.Parse(r.GetString("new_percent"), Inv), double.Parse(r.GetString("delta_pp"), Inv),
                double.Parse(r.GetString("p_value"), Inv), bool.Parse(r.GetString("significant")), r.GetString("image"),
                header.Contains("symbol") ? r.GetString("symbol") : null));
        return (header, rows);
    }

    private string Record(string name, params string[] command)
    {
        var dir = Path.Combine(_dir, name);
        var rec = Cli.Run(["record", "--session-dir", dir, .. command]);
        output.WriteLine(rec.Stderr.Trim());
        Assert.True(rec.ExitCode == 0, rec.Stderr);
        return dir;
    }

    [RootFact]
    public void SameWorkloadRecordedTwice_NoSignificantSymbol()
    {
        var a = Record("a");
        var b = Record("b");
        var csv = Cli.Run("diff", a, b, "-l", "--csv");
        Assert.True(csv.ExitCode == 0, csv.Stderr);
        var (header, rows) = ReadCsv(csv.Stdout);
        Assert.Equal(SymbolHeader, header);
        foreach (var r in rows.Take(8)) output.WriteLine(r.ToString());
        Assert.DoesNotContain(rows, r => r.Significant);
        foreach (var hot in new[] { "hot_sixty", "hot_thirty", "hot_ten" })
        {
            var r = rows.Single(x => x.Image == "hotloop" && x.Symbol == hot);
            Assert.True(r.BaseSamples > 0 && r.NewSamples > 0, hot);
            Assert.True(Math.Abs(r.NewPercent - r.BasePercent - r.DeltaPp) <= 0.00015, $"{hot}: delta {r.DeltaPp}"); // each printed with 4 decimals
            Assert.InRange(r.PValue, 0, 1);
        }
        // Each side's rows add up to its total: the percentages of either side sum to 100.
        Assert.Equal(100, rows.Sum(r => r.BasePercent), 0);
        Assert.Equal(100, rows.Sum(r => r.NewPercent), 0);
        // A row on one side only has 0 on the other.
        Assert.All(rows.Where(r => r.BaseSamples == 0), r => Assert.Equal(0, r.BasePercent));

        // oprofile's own syntax gives the same rows, as text with the header naming both sources and the test.
        var text = Cli.Run("opreport", "-l", "{", a, "}", "{", b, "}");
        Assert.True(text.ExitCode == 0, text.Stderr);
        output.WriteLine(text.Stdout);
        Assert.Contains($"base {{ {a} }}, new {{ {b} }}", text.Stdout);
        Assert.Contains("two-proportion z-test", text.Stdout);
        Assert.Contains("Holm-Bonferroni", text.Stdout);
        Assert.Contains("0 of ", text.Stdout);
        Assert.Contains("hot_sixty", text.Stdout);
    }

    [RootFact]
    public void WorkMovedFromFToG_FlagsFAndGWithTheirSigns()
    {
        var shift = Path.Combine(_dir, "shift");
        using (var gcc = Process.Start("gcc", ["-O2", "-fno-omit-frame-pointer", "-o", shift, Path.Combine(Cli.BinDir, "Data", "diff", "shift.c")]))
        {
            gcc.WaitForExit();
            Assert.Equal(0, gcc.ExitCode);
        }
        var before = Record("f70", "--callgraph", "--", shift, "70");
        var after = Record("f30", "--callgraph", "--", shift, "30");

        var csv = Cli.Run("opreport", "-l", "--csv", "{" + before + "}", "{" + after + "}");
        Assert.True(csv.ExitCode == 0, csv.Stderr);
        var (_, rows) = ReadCsv(csv.Stdout);
        foreach (var r in rows.Take(6)) output.WriteLine(r.ToString());
        Row Of(string symbol) => rows.Single(r => r.Image == "shift" && r.Symbol == symbol);
        var (f, g, h) = (Of("f"), Of("g"), Of("h"));
        Assert.True(f.Significant && f.DeltaPp < -20, $"f: {f}");
        Assert.True(g.Significant && g.DeltaPp > 20, $"g: {g}");
        Assert.False(h.Significant, $"h: {h}");
        // Of the program's own rows exactly f and g are marked. Kernel rows are left out: on this VM the hypervisor's
        // interrupt path (pvm_irq_enable) moves between two recordings with the machine's load, a real shift too.
        Assert.Equal(["f", "g"], rows.Where(r => r.Significant && r.Image == "shift").Select(r => r.Symbol!).Order());
        // Largest change first.
        Assert.Equal(new[] { "f", "g" }, rows.Take(2).Select(r => r.Symbol!).Order());

        // -c: the primary lines of f and g carry the change and the mark; their [self] lines are counted per side.
        var cg = Cli.Run("opreport", "-c", "{", before, "}", "{", after, "}");
        Assert.True(cg.ExitCode == 0, cg.Stderr);
        output.WriteLine(cg.Stdout);
        string Primary(string symbol) => cg.Stdout.Split('\n').Single(l => !l.StartsWith(' ') && Regex.IsMatch(l, @" shift +" + symbol + "$"));
        Assert.Matches(@"^\d+ +[\d.]+ +\d+ +[\d.]+ +-[\d.]+ +\S+ \* ", Primary("f"));
        Assert.Matches(@"^\d+ +[\d.]+ +\d+ +[\d.]+ +\+[\d.]+ +\S+ \* ", Primary("g"));
        Assert.DoesNotMatch(@" \* ", Primary("h"));
        var fSelf = cg.Stdout.Split('\n').Single(l => l.StartsWith("  ") && l.TrimEnd().EndsWith(" f [self]", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal((f.BaseSamples, f.NewSamples), (long.Parse(fSelf[0], Inv), long.Parse(fSelf[2], Inv)));

        // Per image (no -l) and with a threshold: the kernel's and libc's small rows drop out on both sides.
        var images = ReadCsv(Cli.Run("diff", before, after, "--csv", "--threshold", "5").Stdout).Rows;
        Assert.Equal("shift", Assert.Single(images).Image);

        // Differential flame graph: folded with both counts per stack (difffolded.pl), and the SVG coloured by change.
        var folded = Path.Combine(_dir, "diff.folded");
        var fl = Cli.Run("flame", "--diff-base", before, after, "-o", folded);
        Assert.True(fl.ExitCode == 0, fl.Stderr);
        var lines = File.ReadAllLines(folded);
        var parsed = lines.Select(l => Regex.Match(l, @"^(.+) (\d+) (\d+)$")).ToList();
        Assert.All(parsed, m => Assert.True(m.Success, m.Value));
        long Count(string leaf, int side) => parsed.Where(m => m.Groups[1].Value.EndsWith(";" + leaf, StringComparison.Ordinal))
            .Sum(m => long.Parse(m.Groups[side].Value, Inv));
        Assert.True(Count("f", 2) > 2 * Count("f", 3), "f should shrink");
        Assert.True(Count("g", 3) > 2 * Count("g", 2), "g should grow");
        Assert.Equal(f.BaseSamples, Count("f", 2));
        Assert.Equal(g.NewSamples, Count("g", 3));

        var svg = Path.Combine(_dir, "diff.svg");
        fl = Cli.Run("flame", "--diff-base", before, "--session-dir", after, "-o", svg);
        Assert.True(fl.ExitCode == 0, fl.Stderr);
        var doc = File.ReadAllText(svg);
        var fills = Regex.Matches(doc, @"<g class=""frame""><title>(?<name>[^ <]+) \([^<]*</title><rect [^>]*fill=""rgb\((?<r>\d+),(?<g>\d+),(?<b>\d+)\)""")
            .Select(m => (Name: m.Groups["name"].Value, R: int.Parse(m.Groups["r"].Value, Inv), G: int.Parse(m.Groups["g"].Value, Inv), B: int.Parse(m.Groups["b"].Value, Inv)))
            .ToList();
        output.WriteLine(string.Join(", ", fills));
        var red = fills.First(x => x.Name == "g");
        var blue = fills.First(x => x.Name == "f");
        Assert.True(red.R == 255 && red.G < 100 && red.G == red.B, $"g is {red}");
        Assert.True(blue.B == 255 && blue.R < 100 && blue.R == blue.G, $"f is {blue}");
        Assert.Contains("Differential Flame Graph", doc);

        // Formats that have no differential form are refused (html has one: DiffBrowserTests).
        var speedscope = Cli.Run("flame", "--diff-base", before, after, "-o", Path.Combine(_dir, "d.speedscope.json"));
        Assert.Equal(1, speedscope.ExitCode);
        Assert.Contains("--diff-base", speedscope.Stderr);
    }

    /// <summary>Two copies of the same trace file (a .nettrace test vector) differ in nothing: every p-value is 1.</summary>
    [Fact]
    public void SameTraceTwice_EveryRowUnchanged()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        var source = Path.Combine(d!.FullName, "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace");
        var a = Path.Combine(_dir, "a.nettrace");
        var b = Path.Combine(_dir, "b.nettrace");
        File.Copy(source, a);
        File.Copy(source, b);
        var r = Cli.Run("opreport", "-l", "--csv", "{", a, "}", "{", b, "}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = ReadCsv(r.Stdout).Rows;
        Assert.True(rows.Count >= 3, r.Stdout);
        Assert.All(rows, x => Assert.Equal((x.BaseSamples, 0.0, 1.0, false), (x.NewSamples, x.DeltaPp, x.PValue, x.Significant)));
    }

    [Theory]
    [InlineData("{ A imag:foo } { B }", "unknown profile specification tag 'imag'")]
    [InlineData("{ A B } { C }", "'B' is neither a tag:value term")]
    [InlineData("{ A }", "1 group")]
    [InlineData("{ A } { B } { C }", "3 groups")]
    [InlineData("A { B }", "'A' outside the braces")]
    [InlineData("{ A { B } }", "a '{' inside a group")]
    [InlineData("{ A } { B", "a '{' without its '}'")]
    [InlineData("{ } { B }", "an empty group")]
    public void BadGroups_AreOneLineUserErrors(string args, string message)
    {
        var r = Cli.Run(["opreport", .. args.Split(' ')]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void OptionsWithoutADifferentialForm_AndMissingSources_AreUserErrors()
    {
        var r = Cli.Run("opreport", "-d", "{", "A", "}", "{", "B", "}");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("-d is not available for a differential report", r.Stderr);
        r = Cli.Run("diff", _dir, _dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("a directory without a session store", r.Stderr);
        r = Cli.Run("diff", "session:nope", "session:nope", "--session-dir", _dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("session:nope: no saved session", r.Stderr);
    }
}
