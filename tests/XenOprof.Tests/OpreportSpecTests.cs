using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// One recording of the built-in workload, built with <c>-g</c> (<c>gcc -O2 -g -fno-omit-frame-pointer</c> of
/// samples/workload/hotloop.c into a temporary folder), taken once by <c>xenoprof record -- hotloop-g 1</c> and shared by
/// <see cref="OpreportSpecTests"/>.
/// </summary>
public sealed class RecordedWorkload : IDisposable
{
    private readonly Lazy<string> _session;
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-spec-").FullName;

    public RecordedWorkload() => _session = new Lazy<string>(Record);

    /// <summary>The session directory (recorded on first use).</summary>
    public string Session => _session.Value;

    /// <summary>The workload's path (its image's full path in the session).</summary>
    public string Binary => Path.Combine(_dir, "hotloop-g");

    /// <summary>samples/workload/hotloop.c in the repository.</summary>
    public static string Source
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
            return Path.Combine(d!.FullName, "samples", "workload", "hotloop.c");
        }
    }

    private string Record()
    {
        using (var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-g", "-fno-omit-frame-pointer", "-o", Binary, Source]) { RedirectStandardError = true })!)
        {
            var err = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.True(gcc.ExitCode == 0, "gcc: " + err);
        }
        var session = Path.Combine(_dir, "session");
        var rec = Cli.Run("record", "--session-dir", session, "--", Binary, "1");
        Assert.True(rec.ExitCode == 0, rec.Stderr);
        return session;
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

/// <summary>
/// opreport's profile specification terms and report-shaping options on a real recording (<see cref="RecordedWorkload"/>):
/// what each keeps, the percentages of what is left, sort orders, file:line of the hot functions, accumulated columns,
/// and the combinations oprofile refuses.
/// </summary>
public sealed class OpreportSpecTests(RecordedWorkload work, ITestOutputHelper output) : IClassFixture<RecordedWorkload>
{
    private const string Image = "hotloop-g";

    private Cli.Result Report(params string[] args)
    {
        var r = Cli.Run(["opreport", "--session-dir", work.Session, .. args]);
        output.WriteLine($"$ opreport {string.Join(' ', args)} (exit {r.ExitCode})\n{r.Stdout}{r.Stderr}");
        return r;
    }

    /// <summary>The records of a CSV report as field name → value, fields split as RFC 4180 quotes them.</summary>
    private List<Dictionary<string, string>> Csv(params string[] args)
    {
        var r = Report([.. args, "--csv"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        var header = Fields(lines[0]);
        return lines.Skip(1).Select(l => header.Zip(Fields(l)).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var f = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted) { if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { f.Append('"'); i++; } else if (c == '"') quoted = false; else f.Append(c); }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(f.ToString()); f.Clear(); }
            else f.Append(c);
        }
        fields.Add(f.ToString());
        return fields;
    }

    private static long N(Dictionary<string, string> row, string field) => long.Parse(row[field], CultureInfo.InvariantCulture);
    private static double D(Dictionary<string, string> row, string field) => double.Parse(row[field], CultureInfo.InvariantCulture);

    [RootFact]
    public void ImageTerm_KeepsOnlyThatImage_WithItsUnfilteredSamples()
    {
        var all = Csv();
        long total = all.Sum(r => N(r, "samples"));
        var workload = Assert.Single(all, r => r["image"] == Image);
        foreach (var term in new[] { "image:" + Image, "image:hotloop-?", "image:hot*", "image:" + work.Binary, "image:/tmp/*/hotloop-g" })
        {
            var only = Assert.Single(Csv(term));
            Assert.Equal(Image, only["image"]);
            Assert.Equal(N(workload, "samples"), N(only, "samples"));
            Assert.Equal(100.0, D(only, "percent"));
        }
        var rest = Csv("image-exclude:" + Image);
        Assert.DoesNotContain(rest, r => r["image"] == Image);
        Assert.Equal(total - N(workload, "samples"), rest.Sum(r => N(r, "samples")));
        Assert.Empty(Csv("-l", "image:" + Image, "image-exclude:hot*"));
    }

    [RootFact]
    public void ExcludeSymbols_RemovesRows_PercentOfWhatIsLeft()
    {
        var all = Csv("-l");
        long total = all.Sum(r => N(r, "samples"));
        long sixty = N(all.Single(r => r["symbol"] == "hot_sixty"), "samples");
        var rest = Csv("-l", "-e", "hot_sixty");
        Assert.DoesNotContain(rest, r => r["symbol"] == "hot_sixty");
        Assert.Equal(all.Count - 1, rest.Count);
        var thirty = rest.Single(r => r["symbol"] == "hot_thirty");
        Assert.Equal(N(all.Single(r => r["symbol"] == "hot_thirty"), "samples"), N(thirty, "samples"));
        Assert.Equal(Math.Round(100.0 * N(thirty, "samples") / (total - sixty), 4), D(thirty, "percent"));

        var included = Csv("-l", "--include-symbols=hot_sixty,hot_ten");
        Assert.Equal(["hot_sixty", "hot_ten"], included.Select(r => r["symbol"]));
        Assert.Equal(100.0, included.Sum(r => D(r, "percent")), 3);
        Assert.Equal(["hot_ten"], Csv("-l", "-i", "hot_sixty,hot_ten", "-e", "hot_sixty").Select(r => r["symbol"])); // exclusion wins
    }

    [RootFact]
    public void Sort_OrdersAsOprofile()
    {
        var bySymbol = Csv("-l", "--sort=symbol").Select(r => r["symbol"]).ToList();
        Assert.Equal(bySymbol.Order(StringComparer.Ordinal), bySymbol);
        var reversed = Csv("-l", "-r").Select(r => N(r, "samples")).ToList();
        Assert.Equal(reversed.Order(), reversed);
        Assert.True(reversed[0] < reversed[^1], "the fewest samples first");
        var byImage = Csv("-l", "--sort=image,symbol").Select(r => (r["image"], r["symbol"])).ToList();
        Assert.Equal(byImage.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal), byImage);
        var workload = Csv("-l", "-w", "--sort=vma", "image:" + Image).Select(r => Convert.ToUInt64(r["vma"], 16)).ToList();
        Assert.True(workload.Count >= 3);
        Assert.Equal(workload.Order(), workload);
        // hot_sixty, hot_thirty and hot_ten are defined in that order, so they lie in that order.
        Assert.Equal(["hot_sixty", "hot_thirty", "hot_ten"],
            Csv("-l", "--sort=vma", "-i", "hot_ten,hot_sixty,hot_thirty").Select(r => r["symbol"]));
        Assert.Equal(["hot_ten", "hot_thirty", "hot_sixty"],
            Csv("-l", "--sort=debug", "-r", "-i", "hot_ten,hot_sixty,hot_thirty").Select(r => r["symbol"]));
    }

    [RootFact]
    public void DebugInfo_PrintsTheHotFunctionsFileAndLine()
    {
        var source = File.ReadAllLines(RecordedWorkload.Source);
        string Where(string function) => "hotloop.c:" + (Array.FindIndex(source, l => l.Contains($" void {function}(", StringComparison.Ordinal)) + 1);

        var text = Report("-l", "-g", "--no-header", "--no-error-bars");
        Assert.Equal(0, text.ExitCode);
        var lines = text.Stdout.Split('\n');
        Assert.StartsWith("samples  %        linenr info                 image name               symbol name", lines[0]);
        var hot = lines.Single(l => l.EndsWith(" hot_sixty", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([Where("hot_sixty"), Image, "hot_sixty"], hot[2..]);
        Assert.Contains(lines, l => l.Contains("(no location information)") && l.Contains("[kernel.kallsyms]"));

        var csv = Csv("-l", "-g", "-i", "hot_thirty,hot_ten");
        Assert.Equal([Where("hot_thirty"), Where("hot_ten")], csv.Select(r => r["linenr"]));
        var full = Csv("-l", "-g", "-f", "-i", "hot_ten");
        Assert.Equal(RecordedWorkload.Source + ":" + Where("hot_ten").Split(':')[1], full[0]["linenr"]); // -f: the path gcc was given

        var xml = Report("-l", "-g", "--xml", "-i", "hot_sixty");
        Assert.Contains($"<symboldata id=\"0\" name=\"hot_sixty\" file=\"hotloop.c\" line=\"{Where("hot_sixty").Split(':')[1]}\"", xml.Stdout);
        Assert.Contains("<options debuginfo=\"true\" includesymbols=\"hot_sixty\" />", xml.Stdout);
        OpreportFormatsTests.AssertValidXml(xml.Stdout, Path.Combine(Path.GetDirectoryName(work.Session)!, "g.xml"), output);
    }

    [RootFact]
    public void Accumulated_ColumnsAreMonotone_AndEndAt100()
    {
        var text = Report("-l", "-a", "--no-header", "--no-error-bars");
        Assert.Equal(0, text.ExitCode);
        var lines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("samples  cum. samples  %        cum. %     image name", lines[0]);
        long running = 0;
        double lastPercent = 0;
        string? last = null;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            running += long.Parse(f[0], CultureInfo.InvariantCulture);
            Assert.Equal(running, long.Parse(f[1], CultureInfo.InvariantCulture));
            var cum = double.Parse(f[3], CultureInfo.InvariantCulture);
            Assert.True(cum >= lastPercent, line);
            lastPercent = cum;
            last = f[3];
        }
        Assert.Equal("100.000", last);
        var csv = Csv("-l", "-a");
        Assert.Equal(csv.Sum(r => N(r, "samples")), N(csv[^1], "cum_samples"));
        Assert.Equal(100.0, D(csv[^1], "cum_percent"));
    }

    [RootFact]
    public void DetailsWithGlobalPercent_AreSharesOfTheWholeProfile()
    {
        var all = Csv("-l");
        long total = all.Sum(r => N(r, "samples"));
        var rows = Csv("-d", "-%", "-i", "hot_sixty");
        var details = rows.Where(r => r["level"] == "instruction").ToList();
        Assert.NotEmpty(details);
        foreach (var d in details) Assert.Equal(Math.Round(100.0 * N(d, "samples") / N(rows[0], "samples"), 4), D(d, "percent"), 3);
        // -i keeps hot_sixty only, so the whole profile is hot_sixty: compare without -i on the same symbol.
        var global = Csv("-d", "-%").Where(r => r["symbol"] == "hot_sixty" && r["level"] == "instruction").ToList();
        foreach (var d in global) Assert.Equal(Math.Round(100.0 * N(d, "samples") / total, 4), D(d, "percent"), 3);
    }

    [RootFact]
    public void EventTermsThatMatchNothing_NameWhatTheSessionHas()
    {
        var r = Report("count:7");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("count:7 matches no event of this session (it has event:CPU_CLOCK count:", r.Stderr);
        Assert.Contains("event nosuch is not in this session (it has CPU_CLOCK)", Report("event:nosuch").Stderr);
        Assert.Equal(Csv().Sum(x => N(x, "samples")), Csv("event:CPU_CLOCK", "unit-mask:0", "tgid:all").Sum(x => N(x, "samples")));
    }
}

/// <summary>opreport's option and profile-specification errors (checked before any session is read) and its grouped help.</summary>
public sealed class OpreportOptionErrorsTests
{
    [Theory]
    [InlineData("foo:1", "foo:1: unknown profile specification tag 'foo' (valid: session:, image:, image-exclude:, event:, count:, unit-mask:, tgid:, tid:, cpu:, domain:)")]
    [InlineData("cpu:1 cpu:2", "tag 'cpu:' given more than once")]
    [InlineData("a.data b.data", "a.data b.data: one trace FILE at most")]
    [InlineData("a.data session:x", "report on a trace file or a saved session, not both")]
    [InlineData("-a", "--debug-info and --accumulated are meaningless without --symbols (-l)")]
    [InlineData("-g", "--debug-info and --accumulated are meaningless without --symbols (-l)")]
    [InlineData("-e main", "--exclude-symbols and --include-symbols are meaningless without --symbols (-l)")]
    [InlineData("--sort=vma", "--sort=vma is meaningless without --symbols (-l)")]
    [InlineData("-l --sort=size", "--sort=size: unknown sort key (expected a comma list of vma, sample, symbol, debug, image, app-name)")]
    [InlineData("-l -%", "--global-percent is meaningless with --symbols and without --details or --callgraph")]
    [InlineData("-c -a", "-c/--callgraph lists functions by samples without extra columns")]
    [InlineData("domain:1 --domain=2", "domain:1 contradicts --domain=2")]
    public void BadCombinations_AreUserErrors(string args, string message)
    {
        var r = Cli.Run(["opreport", "--session-dir", Path.Combine(Path.GetTempPath(), "xenprof-no-session-" + Guid.NewGuid().ToString("N")), .. args.Split(' ')]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("xenoprof opreport: " , r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }

    [Fact]
    public void Help_GroupsOptionsByTopic()
    {
        var r = Cli.Run("opreport", "--help");
        Assert.Equal(0, r.ExitCode);
        string[] sections = ["Usage:", "Arguments:", "Report type (default: one row per image):", "Choosing symbols:", "Ordering:", "Columns:",
            "Output format (default: text):", "Session and input:", "Other options:"];
        var at = sections.Select(s => r.Stdout.IndexOf("\n" + s + "\n", StringComparison.Ordinal)).ToList();
        Assert.All(at, i => Assert.True(i >= 0, r.Stdout));
        Assert.Equal(at.Order(), at);
        int ordering = at[4], columns = at[5];
        Assert.InRange(r.Stdout.IndexOf("-s, --sort <KEYS>", StringComparison.Ordinal), ordering, columns);
        Assert.InRange(r.Stdout.IndexOf("-%, --global-percent", StringComparison.Ordinal), columns, at[6]);
        Assert.Contains("-?, --help ", r.Stdout[at[8]..]);
        Assert.Contains("Usage:", Cli.Run("flame", "--help").Stdout); // other verbs keep the default help
    }
}

/// <summary>
/// <c>cpu:</c>, <c>tid:</c> and <c>tgid:</c> on a system-wide perf.data recorded here (<c>perf record -B -a -e cpu-clock
/// -- hotloop 0.5</c>): the samples each term selects equal what perf counts for that CPU (<c>perf report --sort cpu -n</c>),
/// thread (<c>perf report --sort pid -n</c>: perf's "pid" key is the thread, printed <c>TID:COMM</c>) or process (perf 6.1's
/// report has no process key: samples per pid of <c>perf script -F pid</c>), and a comma list selects the sum of its members.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class OpreportSpecPerfTests(ITestOutputHelper output)
{
    [PerfRecordFact]
    [InlineData("cpu", "cpu")]
    [InlineData("pid", "tid")]
    [InlineData("script", "tgid")]
    public void Term_SelectsWhatPerfReportCounts(string perfSort, string tag)
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "system.data");
        try
        {
            var rec = PerfImportComparisonTests.Sh($"perf record -B -a -e cpu-clock -o {file} -- {Cli.Workload} 0.5");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            var report = PerfImportComparisonTests.Sh(perfSort == "script" ? $"perf script -i {file} -F pid" : $"perf report -i {file} --stdio --sort {perfSort} -n -q");
            Assert.True(report.Code == 0, $"perf failed: {report.Err}");
            output.WriteLine(report.Out.Length > 4000 ? report.Out[..4000] : report.Out);
            // perf report: "    45.00%           450  000" (cpu) or "    12.00%     120  1234:hotloop" (pid); perf script: "  1234" per sample
            var perf = report.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => perfSort == "script" ? f.Length == 1 : f.Length >= 3 && f[0].EndsWith('%'))
                .Select(f => f.Length == 1 ? (Id: int.Parse(f[0], CultureInfo.InvariantCulture), Samples: 1L)
                    : (Id: int.Parse(f[2].Split(':')[0], CultureInfo.InvariantCulture), Samples: long.Parse(f[1], CultureInfo.InvariantCulture)))
                .GroupBy(x => x.Id).Select(g => (Id: g.Key, Samples: g.Sum(x => x.Samples))).OrderByDescending(x => x.Samples).ToList();
            Assert.NotEmpty(perf);

            long Total(string term)
            {
                var r = Cli.Run("opreport", "--csv", file, term);
                Assert.True(r.ExitCode == 0, r.Stderr);
                return r.Stdout.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Sum(l => long.Parse(l.Split(',')[1], CultureInfo.InvariantCulture));
            }
            foreach (var (id, samples) in perf.Take(3))
                Assert.Equal(samples, Total($"{tag}:{id}"));
            var two = perf.Take(2).ToList();
            Assert.Equal(two.Sum(x => x.Samples), Total($"{tag}:{string.Join(',', two.Select(x => x.Id))}"));
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
