using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>opannotate --clickhouse</c> against a real clickhouse-server (<see cref="ClickHouseServer"/>): sessions of programs
/// built here with gcc, recorded here and pushed as different hosts; the merged annotation is compared with the local
/// annotations of the session directories.
/// </summary>
[Collection(ClickHouseCollection.Name)]
public sealed partial class FleetAnnotateTests(ClickHouseServer server, ITestOutputHelper output)
{
    /// <summary>Two recordings of the built-in workload (samples/workload/hotloop.c, gcc -O2), once per test run.</summary>
    private static readonly Lazy<(string A, string B)> Sessions = new(() =>
    {
        string a = Cli.NewSessionDir(), b = Cli.NewSessionDir();
        foreach (var (dir, seconds) in new[] { (a, "0.5"), (b, "0.3") })
        {
            var r = Cli.Run("record", "--session-dir", dir, "--", Cli.Workload, seconds);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var dir in new[] { a, b }) try { Directory.Delete(dir, true); } catch (IOException) { } };
        return (a, b);
    });

    private static string NewDatabase() => "t" + Guid.NewGuid().ToString("N")[..12];

    private Cli.Result Xenoprof(params string[] args) => XenoprofWith(null, args);

    private Cli.Result XenoprofWith(string[]? wrapper, params string[] args)
    {
        var r = Cli.RunAs(wrapper, args);
        output.WriteLine($"$ xenoprof {string.Join(' ', args)}\n{r.Stdout}{r.Stderr}");
        return r;
    }

    private void Push(string db, string dir, string host)
    {
        var r = Xenoprof("push", "--clickhouse", server.Url, "--database", db, "--host-name", host, dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    /// <summary>One function listing of opannotate's output: its header's image (and build-id, when the profile has two
    /// builds of it), whether it was disassembled, and the count on each sampled address.</summary>
    private sealed record Listing(string Image, string? BuildId, bool Disassembled, Dictionary<ulong, long> Counts);

    // "0000000000001240 <hot_sixty>: /* hot_sixty total:    246 58.4323 (hotloop) */", optionally "(shift build-id 12ab…)".
    [GeneratedRegex(@"^[0-9a-f]{16} <(?<name>[^>]+)>: /\* .* \((?<image>[^ ()]+)(?: build-id (?<build>\w+))?\)(?:;.*)? \*/$")]
    private static partial Regex FunctionLine();

    // "    53 12.5891 :    1253:\t48 c1 e2 0d ..." (disassembled) or "    53 12.5891 :    1253:\t<hot_sixty+0x13>" (by address).
    [GeneratedRegex(@"^ *(?<n>\d+) +[\d.]+ : *(?<addr>[0-9a-f]+):\t(?<text>.*)$")]
    private static partial Regex CountLine();

    /// <summary>The listings of an opannotate output by (function, build-id).</summary>
    private static Dictionary<(string Function, string? BuildId), Listing> Parse(string stdout)
    {
        var result = new Dictionary<(string, string?), Listing>();
        Listing? current = null;
        (string, string?) key = default;
        foreach (var line in stdout.Replace("\r", "").Split('\n'))
        {
            if (FunctionLine().Match(line) is { Success: true } f)
            {
                string? build = f.Groups["build"].Success ? f.Groups["build"].Value : null;
                key = (f.Groups["name"].Value, build);
                result[key] = current = new Listing(f.Groups["image"].Value, build, true, []);
            }
            else if (current != null && line.StartsWith("/* ", StringComparison.Ordinal) && line.EndsWith("listed by sampled address */", StringComparison.Ordinal))
                result[key] = current = current with { Disassembled = false };
            else if (current != null && CountLine().Match(line) is { Success: true } c)
            {
                Assert.Equal(current.Disassembled, !c.Groups["text"].Value.StartsWith('<'));
                current.Counts[Convert.ToUInt64(c.Groups["addr"].Value, 16)] = long.Parse(c.Groups["n"].Value);
            }
        }
        return result;
    }

    private Dictionary<(string Function, string? BuildId), Listing> Annotate(params string[] args)
    {
        var r = Xenoprof(["opannotate", "--assembly", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return Parse(r.Stdout);
    }

    private static Dictionary<(string Function, ulong Address), long> Counts(Dictionary<(string Function, string? BuildId), Listing> listings, string image) =>
        listings.Where(kv => kv.Value.Image == image).SelectMany(kv => kv.Value.Counts.Select(c => (Key: (kv.Key.Item1, c.Key), c.Value)))
            .ToDictionary(x => x.Key, x => x.Value);

    [ClickHouseRootFact]
    public void TwoHosts_MergedPerInstructionCountsAreTheSumOfTheLocalAnnotations()
    {
        var (a, b) = Sessions.Value;
        var db = NewDatabase();
        Push(db, a, "host-a");
        Push(db, b, "host-b");
        var (la, lb) = (Annotate("--session-dir", a), Annotate("--session-dir", b));
        var (ca, cb) = (Counts(la, "hotloop"), Counts(lb, "hotloop"));
        var sum = ca.Keys.Union(cb.Keys).ToDictionary(k => k, k => ca.GetValueOrDefault(k) + cb.GetValueOrDefault(k));
        Assert.Contains(sum.Keys, k => k.Function == "hot_sixty");

        string[] fleet = ["--clickhouse", server.Url, "--database", db];
        var merged = Annotate(fleet);
        Assert.True(merged[("hot_sixty", null)].Disassembled, "the workload binary is here with its build-id: disassembled");
        Assert.Equal(sum.OrderBy(kv => kv.Key), Counts(merged, "hotloop").OrderBy(kv => kv.Key));
        Assert.Equal(ca.OrderBy(kv => kv.Key), Counts(Annotate([.. fleet, "host:host-a"]), "hotloop").OrderBy(kv => kv.Key));

        // Profile specification terms narrow the sums in ClickHouse as they narrow the local profile; --include-symbols the listing.
        using var ch = server.Client();
        var pid = ch.Query($"SELECT pid FROM {db}.samples WHERE host = 'host-b' GROUP BY pid ORDER BY count() DESC LIMIT 1")[0][0];
        Assert.Equal(Counts(Annotate("--session-dir", b, "tgid:" + pid), "hotloop").OrderBy(kv => kv.Key),
            Counts(Annotate([.. fleet, "host:host-b", "tgid:" + pid]), "hotloop").OrderBy(kv => kv.Key));
        Assert.Equal(["hot_ten"], Annotate([.. fleet, "image:hotloop", "-i", "hot_ten"]).Keys.Select(k => k.Function));
    }

    [ClickHouseRootFact]
    public void MissingBinary_NoteNamingItsBuildId_AndPerAddressCounts()
    {
        var bin = Directory.CreateTempSubdirectory("xenoprof-gone-").FullName;
        // Named apart from the workload: a system-wide recording of another test may catch this copy after it is gone.
        var path = Path.Combine(bin, "hotloop-gone");
        File.Copy(Cli.Workload, path);
        var dir = Cli.NewSessionDir();
        try
        {
            Assert.Equal(0, Xenoprof("record", "--session-dir", dir, "--", path, "0.3").ExitCode);
            var db = NewDatabase();
            Push(db, dir, "host-gone");
            var local = Counts(Annotate("--session-dir", dir), "hotloop-gone");
            using var ch = server.Client();
            var buildId = ch.Query($"SELECT build_id FROM {db}.images WHERE path = '{path}'")[0][0];
            Assert.Matches("^[0-9a-f]{40}$", buildId);
            File.Delete(path);

            var r = Xenoprof("opannotate", "--assembly", "--clickhouse", server.Url, "--database", db);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains($"/* hot_sixty: no binary with build-id {buildId} here: {path} is missing and perf's build-id cache ", r.Stdout);
            Assert.Contains($"xenoprof opannotate: warning: hotloop-gone: no binary with build-id {buildId} here", r.Stderr);
            var listings = Parse(r.Stdout);
            Assert.All(listings.Where(kv => kv.Value.Image == "hotloop-gone"), kv => Assert.False(kv.Value.Disassembled));
            Assert.Contains("<hot_sixty+0x", r.Stdout);
            Assert.Equal(local.OrderBy(kv => kv.Key), Counts(listings, "hotloop-gone").OrderBy(kv => kv.Key));
        }
        finally
        {
            Directory.Delete(bin, true);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [ClickHouseRootFact]
    public void TwoBuildsOfOnePath_AnnotatedPerBuildId_TheOldOneFromPerfsBuildIdCache()
    {
        var bin = Directory.CreateTempSubdirectory("xenoprof-builds-").FullName;
        var cache = Directory.CreateTempSubdirectory("xenoprof-buildid-cache-").FullName;
        var shift = Path.Combine(bin, "shift");
        string one = Cli.NewSessionDir(), two = Cli.NewSessionDir();
        try
        {
            var db = NewDatabase();
            using var ch = server.Client();
            var buildIds = new List<string>();
            var locals = new List<Dictionary<(string, ulong), long>>();
            foreach (var (dir, opt, host) in new[] { (one, "-O1", "old"), (two, "-O2", "new") })
            {
                using (var gcc = System.Diagnostics.Process.Start("gcc", [opt, "-g", "-fno-omit-frame-pointer", "-o", shift, Path.Combine(Cli.BinDir, "Data", "diff", "shift.c")]))
                {
                    gcc.WaitForExit();
                    Assert.Equal(0, gcc.ExitCode);
                }
                var r = Xenoprof("record", "--session-dir", dir, "--", shift, "50", "0.4");
                Assert.True(r.ExitCode == 0, r.Stderr);
                Push(db, dir, host);
                locals.Add(Counts(Annotate("--session-dir", dir, "image:shift"), "shift")); // while this build is at the path
                buildIds.Add(ch.Query($"SELECT build_id FROM {db}.images WHERE path = '{shift}' AND session_id IN (SELECT session_id FROM {db}.sessions WHERE host = '{host}')")[0][0]);
                if (host == "old")
                {
                    // perf's build-id cache layout (tools/perf/util/build-id.c): .build-id/xx/rest -> a directory holding elf.
                    var entry = Path.Combine(cache, ".build-id", buildIds[0][..2], buildIds[0][2..]);
                    Directory.CreateDirectory(entry);
                    File.Copy(shift, Path.Combine(entry, "elf"));
                }
            }
            Assert.NotEqual(buildIds[0], buildIds[1]);
            string[] fleet = ["opannotate", "--assembly", "--clickhouse", server.Url, "--database", db, "image:shift"];

            // With the cache, both builds are disassembled, each listing named by its build-id and its own addresses.
            var withCache = XenoprofWith(["env", "PERF_BUILDID_DIR=" + cache], fleet);
            Assert.True(withCache.ExitCode == 0, withCache.Stderr);
            Assert.Contains($"{shift}: the hosts recorded different builds (build-id ", withCache.Stderr);
            Assert.Contains("its addresses are reported per build-id", withCache.Stderr);
            var listings = Parse(withCache.Stdout);
            for (int i = 0; i < 2; i++)
            {
                var id = buildIds[i];
                Assert.True(listings[("h", id)].Disassembled, $"h of build {id}");
                Assert.Equal(locals[i].OrderBy(kv => kv.Key), listings.Where(kv => kv.Key.BuildId == id)
                    .SelectMany(kv => kv.Value.Counts.Select(c => (Key: (kv.Key.Function, c.Key), c.Value))).ToDictionary(x => x.Key, x => x.Value).OrderBy(kv => kv.Key));
            }

            // Source lines come from the same files' DWARF line tables: per-line counts of both builds.
            var source = XenoprofWith(["env", "PERF_BUILDID_DIR=" + cache], [.. fleet.Where(a => a != "--assembly"), "--source", "-i", "h"]);
            Assert.True(source.ExitCode == 0, source.Stderr);
            Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(source.Stdout, @"^ *\d+ +[\d.]+ :.*shift\.c:\d+: +x \^= x << 13;$", RegexOptions.Multiline).Count);

            // Without it, the old build is not here: listed by address with a note naming its build-id; the new one is disassembled.
            var noCache = Xenoprof(fleet);
            Assert.True(noCache.ExitCode == 0, noCache.Stderr);
            Assert.Contains($"no binary with build-id {buildIds[0]} here: {shift} has build-id {buildIds[1]}", noCache.Stdout);
            var without = Parse(noCache.Stdout);
            Assert.False(without[("h", buildIds[0])].Disassembled);
            Assert.True(without[("h", buildIds[1])].Disassembled);
        }
        finally
        {
            foreach (var d in new[] { bin, cache, one, two }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [ClickHouseFact]
    public void WrongUrlOrFleetSelectorWithoutIt_OneLineErrorAndExitOne()
    {
        foreach (var args in new[]
                 {
                     new[] { "opannotate", "--clickhouse", "http://127.0.0.1:9/" },
                     ["opannotate", "--clickhouse", "not a url", "--assembly"],
                     ["opannotate", "--session-dir", Cli.NewSessionDir(), "host:web1"],
                     ["opannotate", "--clickhouse", server.Url, "--database", NewDatabase(), "--from", "yesterday"],
                     ["opannotate", "--clickhouse", server.Url, "--database", NewDatabase()],
                 })
        {
            var r = Xenoprof(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Empty(r.Stdout);
        }
        Assert.Contains("cannot reach ClickHouse at http://127.0.0.1:9/", Xenoprof("opannotate", "--clickhouse", "http://127.0.0.1:9/").Stderr);
    }
}
