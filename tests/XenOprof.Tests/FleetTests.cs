using Xunit;
using Xunit.Abstractions;
using XenProf.Sampler.Fleet;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>xenoprof push</c> and <c>opreport --clickhouse</c> against a real clickhouse-server (<see cref="ClickHouseServer"/>):
/// two sessions of the built-in workload, recorded here with different arguments, pushed as two hosts.
/// </summary>
[Collection(ClickHouseCollection.Name)]
public sealed class FleetTests(ClickHouseServer server, ITestOutputHelper output)
{
    /// <summary>Two recordings, once per test run: the default workload, and a shorter one through <c>record -- CMD</c>.</summary>
    private static readonly Lazy<(string A, string B)> Sessions = new(() =>
    {
        string a = Cli.NewSessionDir(), b = Cli.NewSessionDir();
        var ra = Cli.Run("record", "--session-dir", a, "-g");
        Assert.True(ra.ExitCode == 0, ra.Stderr);
        var rb = Cli.Run("record", "--session-dir", b, "-g", "--", Cli.Workload, "0.4");
        Assert.True(rb.ExitCode == 0, rb.Stderr);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var dir in new[] { a, b }) try { Directory.Delete(dir, true); } catch (IOException) { } };
        return (a, b);
    });

    /// <summary>The shift workload (Data/diff/shift.c) recorded with callchains at 70 and at 30, once per test run: f loses
    /// what g gains, h stays (see <see cref="DiffTests"/>).</summary>
    private static readonly Lazy<(string F70, string F30)> Shift = new(() =>
    {
        var bin = Directory.CreateTempSubdirectory("xenoprof-shift-").FullName;
        var shift = Path.Combine(bin, "shift");
        using (var gcc = System.Diagnostics.Process.Start("gcc", ["-O2", "-fno-omit-frame-pointer", "-o", shift, Path.Combine(Cli.BinDir, "Data", "diff", "shift.c")]))
        {
            gcc.WaitForExit();
            Assert.Equal(0, gcc.ExitCode);
        }
        string f70 = Cli.NewSessionDir(), f30 = Cli.NewSessionDir();
        foreach (var (dir, arg) in new[] { (f70, "70"), (f30, "30") })
        {
            var r = Cli.Run("record", "--session-dir", dir, "--callgraph", "--", shift, arg);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var d in new[] { f70, f30, bin }) try { Directory.Delete(d, true); } catch (IOException) { } };
        return (f70, f30);
    });

    private static string NewDatabase() => "t" + Guid.NewGuid().ToString("N")[..12];

    private Cli.Result Xenoprof(params string[] args)
    {
        var r = Cli.Run(args);
        output.WriteLine($"$ xenoprof {string.Join(' ', args)}\n{r.Stdout}{r.Stderr}");
        return r;
    }

    private static Dictionary<(string Image, string Symbol), long> Rows(string report) =>
        Cli.ParseSymbols(report).GroupBy(r => (r.Image, r.Symbol)).ToDictionary(g => g.Key, g => g.Sum(r => r.Samples));

    private Dictionary<(string, string), long> Local(string dir, params string[] terms)
    {
        var r = Xenoprof(["opreport", "-l", "--session-dir", dir, .. terms]);
        Assert.Equal(0, r.ExitCode);
        return Rows(r.Stdout);
    }

    private Dictionary<(string, string), long> Fleet(string db, params string[] selectors)
    {
        var r = Xenoprof(["opreport", "-l", "--clickhouse", server.Url, "--database", db, .. selectors]);
        Assert.Equal(0, r.ExitCode);
        return Rows(r.Stdout);
    }

    private void Push(string db, string dir, string host, params string[] more)
    {
        var r = Xenoprof(["push", "--clickhouse", server.Url, "--database", db, "--host-name", host, dir, .. more]);
        Assert.Equal(0, r.ExitCode);
    }

    private static void AssertSameRows(Dictionary<(string, string), long> expected, Dictionary<(string, string), long> actual)
    {
        foreach (var (key, samples) in expected) Assert.True(actual.GetValueOrDefault(key) == samples, $"{key}: expected {samples}, got {actual.GetValueOrDefault(key)}");
        Assert.Equal(expected.Count, actual.Count);
    }

    [ClickHouseRootFact]
    public void TwoHosts_MergedReportIsTheSumOfTheLocalReports_RowByRow()
    {
        using var ch = server.Client();
        var (a, b) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        Push(db, b, "host-b");
        var localA = Local(a);
        var localB = Local(b);
        var sum = localA.Keys.Union(localB.Keys).ToDictionary(k => k, k => localA.GetValueOrDefault(k) + localB.GetValueOrDefault(k));

        AssertSameRows(sum, Fleet(db));
        AssertSameRows(sum, Fleet(db, "host:host-a,host-b"));
        AssertSameRows(localA, Fleet(db, "host:host-a"));
        AssertSameRows(localB, Fleet(db, "host:host-b"));
        Assert.Contains(("hotloop", "hot_sixty"), sum.Keys);

        // The same report through a session id as push prints it, and an empty wall-clock window.
        var id = ch.Query($"SELECT session_id FROM {db}.sessions WHERE host = 'host-b'")[0][0];
        AssertSameRows(localB, Fleet(db, "session:" + id));
        Assert.Empty(Fleet(db, "--to", "2000-01-01T00:00:00Z"));
        AssertSameRows(sum, Fleet(db, "--from", "2000-01-01T00:00:00Z"));

        // A database pushed before symbol_totals existed (schema version 1) is reported from its samples, to the same rows.
        ch.Execute($"DROP TABLE {db}.symbol_totals");
        AssertSameRows(sum, Fleet(db));
        AssertSameRows(localA, Fleet(db, "host:host-a"));

        // The other report forms run on the merged profile too.
        foreach (var form in new[] { "-d", "-c", "--csv", "--xml" })
            Assert.Equal(0, Xenoprof("opreport", form, "--clickhouse", server.Url, "--database", db).ExitCode);
    }

    [ClickHouseRootFact]
    public void HostVersusHost_DiffFlagsWhatMovedAndMatchesTheLocalDiff()
    {
        var (f70, f30) = Shift.Value;
        var db = NewDatabase();
        Push(db, f70, "f70");
        Push(db, f30, "f30");
        string[] fleet = ["--clickhouse", server.Url, "--database", db];

        var r = Xenoprof(["opreport", "-l", "--csv", .. fleet, "{", "host:f70", "}", "{", "host:f30", "}"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = DiffTests.ReadCsv(r.Stdout).Rows;

        // Row by row what the local diff of the two session directories says.
        var local = Xenoprof("opreport", "-l", "--csv", "{", f70, "}", "{", f30, "}");
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(DiffTests.ReadCsv(local.Stdout).Rows.OrderBy(x => (x.Image, x.Symbol)), rows.OrderBy(x => (x.Image, x.Symbol)));

        DiffTests.Row Of(string symbol) => rows.Single(x => x.Image == "shift" && x.Symbol == symbol);
        var (f, g, h) = (Of("f"), Of("g"), Of("h"));
        Assert.True(f.Significant && f.DeltaPp < -20, $"f: {f}");
        Assert.True(g.Significant && g.DeltaPp > 20, $"g: {g}");
        Assert.False(h.Significant, $"h: {h}");
        Assert.Equal(["f", "g"], rows.Where(x => x.Significant && x.Image == "shift").Select(x => x.Symbol!).Order()); // as DiffTests: the kernel's share follows the machine's load

        // The text report through diff --clickhouse, and -c with the change on f's and g's primary lines.
        var text = Xenoprof(["diff", "-l", .. fleet, "host:f70", "host:f30"]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("base { host:f70 }, new { host:f30 }", text.Stdout);
        Assert.Matches(@"\* +shift +f\n", text.Stdout.Replace("\r", ""));
        var cg = Xenoprof(["opreport", "-c", .. fleet, "{host:f70}", "{host:f30}"]);
        Assert.True(cg.ExitCode == 0, cg.Stderr);
        string Primary(string symbol) => cg.Stdout.Split('\n').Single(l => !l.StartsWith(' ') && System.Text.RegularExpressions.Regex.IsMatch(l, @" shift +" + symbol + "$"));
        Assert.Matches(@"^\d+ +[\d.]+ +\d+ +[\d.]+ +-[\d.]+ +\S+ \* ", Primary("f"));
        Assert.Matches(@"^\d+ +[\d.]+ +\d+ +[\d.]+ +\+[\d.]+ +\S+ \* ", Primary("g"));
        Assert.DoesNotMatch(@" \* ", Primary("h"));

        // A selector that matches nothing, and a local source inside a fleet group, are one-line user errors.
        var none = Xenoprof(["diff", .. fleet, "host:f70", "host:nobody"]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no pushed session matches host:nobody", none.Stderr);
        var mixed = Xenoprof(["opreport", .. fleet, "{", f70, "}", "{", "host:f30", "}"]);
        Assert.Equal(1, mixed.ExitCode);
        Assert.Single(mixed.Stderr.Trim().Split('\n'));
    }

    [ClickHouseRootFact]
    public void ProfileSpecificationTerms_SelectWhatTheLocalReportSelects()
    {
        using var ch = server.Client();
        var (a, b) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        Push(db, b, "host-b");
        string Top(string column) => ch.Query($"SELECT {column} FROM {db}.samples WHERE host = 'host-a' GROUP BY {column} ORDER BY count() DESC LIMIT 1")[0][0];
        var ev = ch.Query($"SELECT name, count FROM {db}.events LIMIT 1")[0];
        string[][] cases =
        [
            ["tgid:" + Top("pid")], ["tid:" + Top("tid")], ["cpu:" + Top("cpu")], ["cpu:0,1", "image:hotloop"], ["image-exclude:hotloop"],
            ["event:" + ev[0], "count:" + ev[1]], ["domain:0"], ["-e", "hot_sixty,hot_ten"], ["-i", "hot_thirty"],
        ];
        foreach (var terms in cases)
        {
            var local = Local(a, terms);
            Assert.NotEmpty(local);
            AssertSameRows(local, Fleet(db, ["host:host-a", .. terms]));
        }
        // Over both hosts: the sum of what each local report keeps.
        string[] both = ["cpu:" + Top("cpu"), "image:hotloop"];
        var (la, lb) = (Local(a, both), Local(b, both));
        AssertSameRows(la.Keys.Union(lb.Keys).ToDictionary(k => k, k => la.GetValueOrDefault(k) + lb.GetValueOrDefault(k)), Fleet(db, both));
        // In a differential report each group's terms apply to its side.
        var diff = Xenoprof("opreport", "-l", "--csv", "--clickhouse", server.Url, "--database", db, "{", "host:host-a", "image:hotloop", "}", "{", "host:host-b", "}");
        Assert.True(diff.ExitCode == 0, diff.Stderr);
        Assert.All(DiffTests.ReadCsv(diff.Stdout).Rows.Where(r => r.BaseSamples > 0), r => Assert.Equal("hotloop", r.Image));

        // An event no session has, or a wrong sample period, is a one-line user error naming what the sessions have.
        foreach (var term in new[] { "event:NO_SUCH_EVENT", "count:1" })
        {
            var r = Xenoprof("opreport", "-l", "--clickhouse", server.Url, "--database", db, term);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"{term} matches no event of the selected sessions (they have event:{ev[0]} count:{ev[1]}", r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
    }

    private Dictionary<string, long> Folded(params string[] args)
    {
        var file = Path.Combine(Path.GetTempPath(), "xenoprof-fleet-" + Guid.NewGuid().ToString("N")[..8] + ".folded");
        try
        {
            var r = Xenoprof(["flame", "-o", file, .. args]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllLines(file).Select(l => (Stack: l[..l.LastIndexOf(' ')], Count: long.Parse(l[(l.LastIndexOf(' ') + 1)..])))
                .ToDictionary(x => x.Stack, x => x.Count);
        }
        finally { File.Delete(file); }
    }

    [ClickHouseRootFact]
    public void FlameOverHosts_FoldedIsTheSumOfTheLocalFoldedOutputs()
    {
        using var ch = server.Client();
        var (a, b) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        Push(db, b, "host-b");
        string[] fleet = ["--clickhouse", server.Url, "--database", db];
        var (la, lb) = (Folded("--session-dir", a), Folded("--session-dir", b));
        var sum = la.Keys.Union(lb.Keys).ToDictionary(k => k, k => la.GetValueOrDefault(k) + lb.GetValueOrDefault(k));
        Assert.Contains(sum.Keys, k => k.EndsWith(";hot_sixty", StringComparison.Ordinal));
        Assert.Equal(sum.OrderBy(kv => kv.Key, StringComparer.Ordinal), Folded(fleet).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(la.OrderBy(kv => kv.Key, StringComparer.Ordinal), Folded([.. fleet, "host:host-a"]).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // --pid is a WHERE clause of the sums, as the local flame graph keeps that process's samples; --weight samples counts.
        var pid = ch.Query($"SELECT pid FROM {db}.samples WHERE host = 'host-a' GROUP BY pid ORDER BY count() DESC LIMIT 1")[0][0];
        Assert.Equal(Folded("--session-dir", a, "--pid", pid, "--weight", "samples").OrderBy(kv => kv.Key, StringComparer.Ordinal),
            Folded([.. fleet, "host:host-a", "--pid", pid, "--weight", "samples"]).OrderBy(kv => kv.Key, StringComparer.Ordinal));

        var svg = Path.Combine(Path.GetTempPath(), "xenoprof-fleet-" + Guid.NewGuid().ToString("N")[..8] + ".svg");
        Assert.Equal(0, Xenoprof(["flame", .. fleet, "-o", svg]).ExitCode);
        Assert.Contains("hot_sixty", File.ReadAllText(svg));
        File.Delete(svg);
        foreach (var (file, why) in new[] { ("never.html", "is the browser report of a session directory"), ("never.trace.json", "places every sample on a time axis"), ("never.png", "plots samples over time") })
        {
            var refused = Xenoprof(["flame", .. fleet, "-o", Path.Combine(Path.GetTempPath(), file)]);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("--clickhouse writes folded stacks, SVG, speedscope or pprof from the per-stack sums; ", refused.Stderr);
            Assert.Contains(why, refused.Stderr);
            Assert.Single(refused.Stderr.Trim().Split('\n'));
        }
    }

    /// <summary>The samples per stack (frame names root first, joined by ';') of a speedscope file, over all its profiles.</summary>
    private static Dictionary<string, long> SpeedscopeStacks(string path)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
        var names = doc.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        var sums = new Dictionary<string, long>();
        foreach (var p in doc.RootElement.GetProperty("profiles").EnumerateArray())
        {
            Assert.Equal("sampled", p.GetProperty("type").GetString());
            var weights = p.GetProperty("weights").EnumerateArray().Select(w => w.GetInt64()).ToList();
            int i = 0;
            foreach (var st in p.GetProperty("samples").EnumerateArray())
            {
                var key = string.Join(";", st.EnumerateArray().Select(f => names[f.GetInt32()]));
                sums[key] = sums.GetValueOrDefault(key) + weights[i++];
            }
        }
        return sums;
    }

    /// <summary>
    /// The first value (samples) per stack (function names root first, joined by ';') of a gzipped pprof profile, read
    /// with the field numbers of google/pprof proto/profile.proto: Profile.sample 2 (Sample.location_id 1, value 2, both
    /// packed), location 4 (Location.id 1, line 4: Line.function_id 1), function 5 (Function.id 1, name 2), string_table 6.
    /// </summary>
    private static Dictionary<string, long> PprofStacks(string path)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        var samples = new List<(List<ulong> Locations, ulong First)>();
        var locationFunction = new Dictionary<ulong, ulong>();
        var functionName = new Dictionary<ulong, long>();
        var strings = new List<string>();
        foreach (var (field, body) in Fields(ms.ToArray()))
            switch (field)
            {
                case 2:
                    var locs = new List<ulong>();
                    ulong? first = null;
                    foreach (var (f, b) in Fields(body))
                        if (f == 1) locs.AddRange(Varints(b));
                        else if (f == 2) first ??= Varints(b).First();
                    samples.Add((locs, first ?? 0));
                    break;
                case 4:
                    var lf = Fields(body).ToList();
                    ulong id = Varints(lf.First(x => x.Field == 1).Body).First();
                    locationFunction[id] = Varints(Fields(lf.First(x => x.Field == 4).Body).First(x => x.Field == 1).Body).First();
                    break;
                case 5:
                    var ff = Fields(body).ToList();
                    functionName[Varints(ff.First(x => x.Field == 1).Body).First()] = (long)Varints(ff.First(x => x.Field == 2).Body).First();
                    break;
                case 6:
                    strings.Add(System.Text.Encoding.UTF8.GetString(body));
                    break;
            }
        var sums = new Dictionary<string, long>();
        foreach (var (locs, n) in samples)
        {
            var key = string.Join(";", Enumerable.Reverse(locs).Select(l => strings[(int)functionName[locationFunction[l]]]));
            sums[key] = sums.GetValueOrDefault(key) + (long)n;
        }
        return sums;

        // Each field of a message as (number, bytes): a varint field's bytes are its varint, a length-delimited one's its body.
        static IEnumerable<(int Field, byte[] Body)> Fields(byte[] m)
        {
            int at = 0;
            while (at < m.Length)
            {
                ulong tag = Varint(m, ref at);
                int start = at;
                switch (tag & 7)
                {
                    case 0: Varint(m, ref at); yield return ((int)(tag >> 3), m[start..at]); break;
                    case 2: int len = (int)Varint(m, ref at); yield return ((int)(tag >> 3), m[at..(at + len)]); at += len; break;
                    case 1: at += 8; break;
                    case 5: at += 4; break;
                    default: throw new InvalidDataException($"wire type {tag & 7}");
                }
            }
        }
        static IEnumerable<ulong> Varints(byte[] b) { int at = 0; while (at < b.Length) yield return Varint(b, ref at); }
        static ulong Varint(byte[] b, ref int at)
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte x = b[at++];
                v |= (ulong)(x & 0x7f) << shift;
                if (x < 0x80) return v;
            }
        }
    }

    [ClickHouseRootFact]
    public void FlameOverHosts_SpeedscopeAndPprofHoldTheSumsOfTheLocalOnes()
    {
        var (a, b) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        Push(db, b, "host-b");
        var dir = Directory.CreateTempSubdirectory("xenoprof-fleet-flame-").FullName;
        try
        {
            string Write(string name, params string[] args)
            {
                var file = Path.Combine(dir, name);
                var r = Xenoprof(["flame", "--weight", "samples", "-o", file, .. args]);
                Assert.True(r.ExitCode == 0, r.Stderr);
                return file;
            }
            string[] fleet = ["--clickhouse", server.Url, "--database", db];
            foreach (var (ext, read) in new (string, Func<string, Dictionary<string, long>>)[] { (".speedscope.json", SpeedscopeStacks), (".pb.gz", PprofStacks) })
            {
                var (la, lb) = (read(Write("a" + ext, "--session-dir", a)), read(Write("b" + ext, "--session-dir", b)));
                var sum = la.Keys.Union(lb.Keys).ToDictionary(k => k, k => la.GetValueOrDefault(k) + lb.GetValueOrDefault(k));
                Assert.Contains(sum.Keys, k => k.EndsWith(";hot_sixty", StringComparison.Ordinal));
                Assert.Equal(sum.OrderBy(kv => kv.Key, StringComparer.Ordinal), read(Write("fleet" + ext, fleet)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
                Assert.Equal(la.OrderBy(kv => kv.Key, StringComparer.Ordinal), read(Write("fleet-a" + ext, [.. fleet, "host:host-a"])).OrderBy(kv => kv.Key, StringComparer.Ordinal));
            }
            // pprof's own reader takes the profile written from the sums.
            if (ExportChecks.Which("go") is { } go)
            {
                var (code, top) = ExportChecks.Run(go, null, "tool", "pprof", "-top", Path.Combine(dir, "fleet.pb.gz"));
                Assert.True(code == 0, top);
                Assert.Contains("hot_sixty", top);
            }
            else output.WriteLine("go not installed (apt-get install golang-go): go tool pprof check skipped");
        }
        finally { Directory.Delete(dir, true); }
    }

    [ClickHouseRootFact]
    public void SecondPush_AddsNothing()
    {
        using var ch = server.Client();
        var (a, _) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        string Count() => ch.Query($"SELECT (SELECT count() FROM {db}.samples), (SELECT count() FROM {db}.stacks), (SELECT count() FROM {db}.frames), (SELECT count() FROM {db}.sessions)")[0].Aggregate((x, y) => x + "/" + y);
        var before = Count();
        var again = Xenoprof("push", "--clickhouse", server.Url, "--database", db, "--host-name", "host-a", a);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing added", again.Stderr);
        Assert.Equal(before, Count());
        AssertSameRows(Local(a), Fleet(db));
    }

    [ClickHouseRootFact]
    public void PushKilledMidway_ThenPushedAgain_HoldsEachSampleOnce()
    {
        using var ch = server.Client();
        var (a, _) = Sessions.Value;
        var db = NewDatabase();
        using (var p = Cli.StartRedirected("push", "--clickhouse", server.Url, "--database", db, "--host-name", "host-a", "--batch-size", "20", "-V", a))
        {
            // Kill -9 once the third batch of samples is in: the rest of the ~100 batches are still to come.
            // (batches are numbered by their first sample's position: 0, 20, 40…)
            string? line;
            int samplesBatches = 0;
            while ((line = p.StandardError.ReadLine()) != null && !(line.Contains("samples batch ") && ++samplesBatches == 3)) output.WriteLine(line);
            Assert.NotNull(line);
            Assert.Contains("samples batch 40:", line);
            p.Kill();
            p.WaitForExit();
        }
        long pushed = long.Parse(ch.Query($"SELECT count() FROM {db}.samples")[0][0]);
        output.WriteLine($"{pushed} samples in the database after kill -9");
        Assert.Equal("0", ch.Query($"SELECT count() FROM {db}.sessions")[0][0]); // incomplete: reports do not see it

        var again = Xenoprof("push", "--clickhouse", server.Url, "--database", db, "--host-name", "host-a", "--batch-size", "20", a);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already there from an earlier push", again.Stderr);
        var local = Local(a);
        Assert.Equal(local.Values.Sum().ToString(), ch.Query($"SELECT count() FROM {db}.samples")[0][0]);
        Assert.Equal("0", ch.Query($"SELECT count() FROM (SELECT batch, count() AS n FROM {db}.samples GROUP BY batch HAVING n > 20)")[0][0]);
        AssertSameRows(local, Fleet(db));
    }

    [ClickHouseRootFact]
    public void SymbolsKnownOnOneHostOnly_AreNamedInAWarning()
    {
        using var ch = server.Client();
        // The same workload path on two hosts: on host-c the binary was gone when it pushed, on host-d it was there.
        var bin = Directory.CreateTempSubdirectory("xenoprof-gone-").FullName;
        // Named apart from the workload: a system-wide recording of another test may catch this copy after it is gone.
        var path = Path.Combine(bin, "hotloop-gone");
        File.Copy(Cli.Workload, path);
        string c = Cli.NewSessionDir(), d = Cli.NewSessionDir();
        Assert.Equal(0, Xenoprof("record", "--session-dir", c, "--", path, "0.3").ExitCode);
        Assert.Equal(0, Xenoprof("record", "--session-dir", d, "--", path, "0.3").ExitCode);
        var db = NewDatabase();
        File.Move(path, path + ".away");
        Push(db, c, "host-c");
        File.Move(path + ".away", path);
        Push(db, d, "host-d");
        Directory.Delete(bin, true);
        Directory.Delete(c, true);
        Directory.Delete(d, true);
        var r = Xenoprof("opreport", "-l", "--clickhouse", server.Url, "--database", db);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("hotloop-gone: symbols known on host host-d only; its ", r.Stderr);
        Assert.Contains(" samples from host host-c are reported as (no symbols)", r.Stderr);
        Assert.Contains(("hotloop-gone", "(no symbols)"), Rows(r.Stdout).Keys);
    }

    [ClickHouseFact]
    public void NativeBlocks_PlainAndGzip_RoundTripEveryColumnType()
    {
        const string columns = "s String, u8 UInt8, u32 UInt32, i32 Int32, i64 Int64, u64 UInt64, f Float64";
        string[] strings = ["plain", "tab\there", "new\nline", @"back\slash", "quote'd", "ünïcode ✓", "", new string('x', 300)];
        foreach (var gzip in new[] { false, true })
        {
            using var ch = new ClickHouseHttp(server.Url) { GzipInserts = gzip };
            var db = NewDatabase();
            ch.Execute($"CREATE DATABASE {db}");
            ch.Execute($"CREATE TABLE {db}.s ({columns}) ENGINE = TinyLog");
            var block = new NativeBlock(columns);
            for (int i = 0; i < strings.Length; i++)
            {
                block.Add(strings[i]).Add(255 - i).Add(uint.MaxValue - (uint)i).Add(int.MinValue + i).Add(long.MinValue + i).Add(ulong.MaxValue - (ulong)i).Add(i / 3.0);
                block.EndRow();
            }
            ch.Insert($"{db}.s", block);
            var rows = ch.Query($"SELECT {string.Join(", ", columns.Split(", ").Select(c => c.Split(' ')[0]))} FROM {db}.s");
            Assert.Equal(strings, rows.Select(r => r[0]));
            for (int i = 0; i < strings.Length; i++)
                Assert.Equal(new[] { $"{255 - i}", $"{uint.MaxValue - (uint)i}", $"{int.MinValue + i}", $"{long.MinValue + i}", $"{ulong.MaxValue - (ulong)i}" },
                    rows[i][1..6]);
            Assert.Equal(Enumerable.Range(0, strings.Length).Select(i => i / 3.0), rows.Select(r => double.Parse(r[6], System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(strings.Length.ToString(), ch.Query($"SELECT count() FROM {db}.s WHERE s IN ({string.Join(", ", strings.Select(ClickHouseHttp.Quote))})")[0][0]);
        }
        using var c = server.Client();
        output.WriteLine("server " + c.ServerVersion());
    }

    [ClickHouseFact]
    public void ServerDownOrWrongUrl_OneLineErrorAndExitOne()
    {
        foreach (var args in new[]
                 {
                     new[] { "opreport", "-l", "--clickhouse", "http://127.0.0.1:9/" },
                     ["opreport", "--clickhouse", "not a url"],
                     ["push", "--clickhouse", "ftp://127.0.0.1/", Cli.NewSessionDir()],
                     ["opreport", "--clickhouse", server.Url + "?database=x", "--database", "no-such-db!"],
                     // The daemon's stream is checked before the daemon starts.
                     ["opcontrol", "--session-dir", Cli.NewSessionDir(), "--start-daemon", "--clickhouse", "http://127.0.0.1:9/"],
                     ["opcontrol", "--session-dir", Cli.NewSessionDir(), "--start-daemon", "--database", "db"],
                 })
        {
            var r = Xenoprof(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Empty(r.Stdout);
        }
        Assert.Contains("cannot reach ClickHouse at http://127.0.0.1:9/", Xenoprof("opreport", "--clickhouse", "http://127.0.0.1:9/").Stderr);
    }

    [ClickHouseRootFact]
    public void Daemon_StreamsItsSessionAsItDumps_AndAfterAResetAsANewSession()
    {
        using var ch = server.Client();
        var db = NewDatabase();
        var dir = Cli.NewSessionDir();
        string Count(string table) => ch.Query($"SELECT count() FROM {db}.{table}")[0][0];
        void Workload(string seconds) { using var w = System.Diagnostics.Process.Start(Cli.Workload, seconds); w.WaitForExit(); }
        void Opcontrol(params string[] args) => Assert.Equal(0, Xenoprof(["opcontrol", "--session-dir", dir, .. args]).ExitCode);
        // The daemon samples the whole machine, other tests' short-lived programs too, whose binaries may be gone by the
        // time a report names them: rows are compared for the workload's image, sample counts from the report header.
        string workload = "image:" + Cli.Workload;
        long Samples(string sessionDir)
        {
            var r = Xenoprof("opreport", "--session-dir", sessionDir);
            Assert.Equal(0, r.ExitCode);
            return long.Parse(System.Text.RegularExpressions.Regex.Match(r.Stdout, @"^Samples: (\d+),", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value);
        }
        try
        {
            Opcontrol("--start-daemon", "--callgraph=16", "--clickhouse", server.Url, "--database", db, "--host-name", "live");
            Opcontrol("--start");
            Workload("1");
            Opcontrol("--dump");
            // Streamed while the daemon still runs: the dump's push makes the session reportable.
            var wait = System.Diagnostics.Stopwatch.StartNew();
            while (Count("sessions") == "0" && wait.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(200);
            Assert.NotEqual("0", Count("sessions"));
            Assert.True(long.Parse(Count("samples")) > 100, Count("samples"));
            Assert.Contains("Fleet: " + server.Url, Xenoprof("opcontrol", "--session-dir", dir, "--status").Stdout);
            var racing = Xenoprof("push", "--clickhouse", server.Url, "--database", db, dir);
            Assert.Equal(1, racing.ExitCode);
            Assert.Contains("its daemon streams it", racing.Stderr);
            var live = Fleet(db, "host:live");
            Assert.True(live.GetValueOrDefault(("hotloop", "hot_sixty")) > 0, string.Join(", ", live));

            // A reset sends the samples so far first; the samples after it are a second session of the host. So does a
            // save, and the saved session, pushed, is the session the daemon streamed: nothing to add.
            Opcontrol("--reset");
            long beforeReset = long.Parse(Count("samples"));
            Workload("0.6");
            Opcontrol("--save=snap");
            long beforeSave = long.Parse(Count("samples"));
            var saved = Local(Path.Combine(dir, "saved", "snap"), workload);
            Assert.Equal(beforeReset + Samples(Path.Combine(dir, "saved", "snap")), beforeSave);
            var pushSaved = Xenoprof("push", "--clickhouse", server.Url, "--database", db, Path.Combine(dir, "saved", "snap"));
            Assert.Equal(0, pushSaved.ExitCode);
            Assert.Contains("nothing added", pushSaved.Stderr);
            Workload("0.4");
            Opcontrol("--shutdown");
            var local = Local(dir, workload);
            var ids = ch.Query($"SELECT session_id FROM {db}.sessions GROUP BY session_id ORDER BY min(pushed_unix_ns)").Select(r => r[0]).ToList();
            Assert.Equal(3, ids.Count);
            // After the shutdown, the last session holds exactly what the session directory holds, each sample once.
            AssertSameRows(local, Fleet(db, "session:" + ids[2], workload));
            AssertSameRows(saved, Fleet(db, "session:" + ids[1], workload));
            Assert.Equal(beforeSave + Samples(dir), long.Parse(Count("samples")));
            Assert.Equal(Count("samples"), ch.Query($"SELECT sum(samples) FROM {db}.symbol_totals")[0][0]);
            Assert.Equal(Count("samples"), ch.Query($"SELECT sum(samples) FROM {db}.frame_totals")[0][0]);
            Assert.Equal("0", ch.Query($"SELECT count() FROM (SELECT session_id, frame_id, count() AS n FROM {db}.frames GROUP BY session_id, frame_id HAVING n > 1)")[0][0]);
            Assert.Equal("0", ch.Query($"SELECT count() FROM (SELECT session_id, stack_id, count() AS n FROM {db}.stacks GROUP BY session_id, stack_id HAVING n > 1)")[0][0]);
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            if (File.Exists(Path.Combine(dir, "daemon.log"))) output.WriteLine("daemon.log:\n" + File.ReadAllText(Path.Combine(dir, "daemon.log")));
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [ClickHouseRootFact]
    public void Daemon_ServerDownMidSession_SamplingGoesOn_AndTheNextPushSendsWhatItMissed()
    {
        // A server of its own, stopped and started again on the same port and data.
        using var own = new ClickHouseServer();
        using var ch = own.Client();
        var dir = Cli.NewSessionDir();
        void Workload(string seconds) { using var w = System.Diagnostics.Process.Start(Cli.Workload, seconds); w.WaitForExit(); }
        Cli.Result Opcontrol(params string[] args) => Xenoprof(["opcontrol", "--session-dir", dir, .. args]);
        try
        {
            Assert.Equal(0, Opcontrol("--start-daemon", "--callgraph=16", "--clickhouse", own.Url, "--database", "outage").ExitCode);
            Assert.Equal(0, Opcontrol("--start").ExitCode);
            Workload("0.5");
            Assert.Equal(0, Opcontrol("--dump").ExitCode);
            var wait = System.Diagnostics.Stopwatch.StartNew();
            while (ch.Query("SELECT count() FROM system.tables WHERE database = 'outage' AND name = 'sessions'")[0][0] == "0"
                   || ch.Query("SELECT count() FROM outage.sessions")[0][0] == "0")
            {
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(60), "the first push did not arrive");
                Thread.Sleep(200);
            }

            own.Stop();
            Workload("0.5");
            Assert.Equal(0, Opcontrol("--dump").ExitCode); // the daemon answers; its push fails in the background
            wait.Restart();
            string status;
            while (!(status = Opcontrol("--status").Stdout).Contains("Fleet: " + own.Url + " database outage: failed"))
            {
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(60), status);
                Thread.Sleep(200);
            }
            Assert.Contains("Profiling: running", status);

            own.Restart();
            Workload("0.3");
            Assert.Equal(0, Opcontrol("--shutdown").ExitCode);
            var header = Xenoprof("opreport", "--session-dir", dir).Stdout;
            var local = System.Text.RegularExpressions.Regex.Match(header, @"^Samples: (\d+),", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
            Assert.Equal(local, ch.Query("SELECT count() FROM outage.samples")[0][0]);
            Assert.Equal(local, ch.Query("SELECT sum(samples) FROM outage.symbol_totals")[0][0]);
            Assert.Contains("cannot reach ClickHouse", File.ReadAllText(Path.Combine(dir, "daemon.log")));
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}

