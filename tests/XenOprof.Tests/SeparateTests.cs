using System.Diagnostics;
using System.Globalization;
using XenProf.Reporter.Profile;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>opreport --separate</c>/<c>--merge</c> on recorded data. A two-thread C program compiled here (its main thread
/// pinned to CPU 0 spinning in <c>spin_a</c>, a second thread pinned to CPU 1 filling a buffer with libc's
/// <c>memset</c>) is recorded with <c>perf record --sample-cpu</c>; the separated reports of the imported file must
/// match <c>perf report --sort pid,dso</c> (perf 6.1's <c>pid</c> key is the thread), <c>--sort pid,sym</c> and
/// <c>--sort cpu</c> on the same file, their columns must add up to the merged report, and <c>--separate=lib</c> must
/// show libc under the program. Without root, the same sums are checked on the committed .nettrace.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class SeparateTests(ITestOutputHelper output) : IDisposable
{
    private const string TwoThreads = """
        #define _GNU_SOURCE
        #include <pthread.h>
        #include <sched.h>
        #include <string.h>
        static volatile unsigned long sink;
        static void *(*volatile fill)(void *, int, size_t) = memset;
        static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); sched_setaffinity(0, sizeof s, &s); }
        __attribute__((noinline)) void spin_a(void) { for (unsigned long i = 0; i < 300000000UL; i++) sink += i; }
        __attribute__((noinline)) void spin_b(void) { static char buf[1 << 16]; for (unsigned long i = 0; i < 60000; i++) { fill(buf, (int)i, sizeof buf); sink += buf[i & 4095]; } }
        static void *worker(void *a) { pin(1); spin_b(); return 0; }
        int main(void) { pthread_t t; pin(0); pthread_create(&t, 0, worker, 0); spin_a(); pthread_join(t, 0); return 0; }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-separate-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Compiles the two-thread program; null (with the reason printed) when it cannot.</summary>
    private string? CompileTwoThreads()
    {
        if (Environment.ProcessorCount < 2) { output.WriteLine("SKIPPED: needs 2 CPUs to pin the threads apart"); return null; }
        var src = Path.Combine(_dir, "two.c");
        File.WriteAllText(src, TwoThreads);
        var bin = Path.Combine(_dir, "two");
        var cc = PerfImportComparisonTests.Sh($"gcc -O1 -pthread -o {bin} {src}");
        if (cc.Code != 0) { output.WriteLine("SKIPPED: gcc failed: " + cc.Err); return null; }
        return bin;
    }

    /// <summary>Compiles the two-thread program and records it with perf; null (with the reason printed) when it cannot.</summary>
    private string? RecordTwoThreads()
    {
        if (CompileTwoThreads() is not { } bin) return null;
        var data = Path.Combine(_dir, "two.data");
        // -B: perf 6.1 here crashes collecting build-ids at the end of a record.
        var rec = PerfImportComparisonTests.Sh($"perf record -B -q -e cpu-clock --sample-cpu -o {data} -- {bin}");
        Assert.True(rec.Code == 0, "perf record failed: " + rec.Err);
        return data;
    }

    /// <summary>perf report -n rows: the sort keys (every column before the count's) and samples.</summary>
    private static Dictionary<string, long> PerfCounts(string data, string sort, Func<string[], string> key)
    {
        var r = PerfImportComparisonTests.Sh($"perf report -i {data} --stdio --no-children --sort {sort} -g none -q -n");
        Assert.True(r.Code == 0, "perf report failed: " + r.Err);
        var d = new Dictionary<string, long>();
        foreach (var line in r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3 || !f[0].EndsWith('%')) continue;
            var k = key(f[2..]);
            d[k] = d.GetValueOrDefault(k) + long.Parse(f[1], CultureInfo.InvariantCulture);
        }
        return d;
    }

    /// <summary>CSV records of an opreport run as header name → value.</summary>
    private static List<Dictionary<string, string>> Csv(params string[] args)
    {
        var r = Cli.Run(["opreport", "--csv", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        var head = lines[0].Split(',');
        return lines.Skip(1).Select(l => l.Split(',')).Select(f => head.Zip(f).ToDictionary(x => x.First, x => x.Second)).ToList();
    }

    private static string Tid(string perfPidComm) => perfPidComm.Split(':')[0];

    [PerfFact]
    public void ThreadAndCpuColumns_MatchPerfReportAndAddUpToTheMergedReport()
    {
        if (RecordTwoThreads() is not { } data) return;

        // Per thread and image, and per thread and symbol of the program: as perf report --sort pid,dso / pid,sym.
        var perfDso = PerfCounts(data, "pid,dso", f => Tid(f[0]) + " " + f[1]);
        var perfSym = PerfCounts(data, "pid,sym", f => f[1] == "[.]" ? Tid(f[0]) + " " + f[2] : "");
        var rows = Csv("-l", "--separate=thread", data);
        var ours = rows.GroupBy(r => r["tid"] + " " + r["image"]).ToDictionary(g => g.Key, g => g.Sum(r => long.Parse(r["samples"], CultureInfo.InvariantCulture)));
        output.WriteLine("perf: " + string.Join(", ", perfDso.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
        output.WriteLine("ours: " + string.Join(", ", ours.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal(perfDso.OrderBy(kv => kv.Key, StringComparer.Ordinal), ours.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        foreach (var sym in new[] { "spin_a", "spin_b" })
        {
            var theirs = perfSym.Where(kv => kv.Key.EndsWith(" " + sym, StringComparison.Ordinal)).ToDictionary();
            var mine = rows.Where(r => r["image"] == "two" && r["symbol"] == sym).ToDictionary(r => r["tid"] + " " + sym, r => long.Parse(r["samples"], CultureInfo.InvariantCulture));
            Assert.Equal(theirs.OrderBy(kv => kv.Key, StringComparer.Ordinal), mine.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        // Two threads, one process: the columns are tid:N, named in the header as opreport names them.
        var tids = rows.Select(r => r["tid"]).Distinct().ToList();
        Assert.Equal(2, tids.Count);
        Assert.Single(rows.Select(r => r["tgid"]).Distinct());
        var text = Cli.Run("opreport", "--separate=thread", data).Stdout;
        foreach (var t in tids)
        {
            Assert.Contains("Processes with a thread ID of " + t, text);
            Assert.Contains("tid:" + t + "|", text);
        }

        // Per CPU: as perf report --sort cpu; the main thread's spin_a on CPU 0, the worker's memset on CPU 1.
        var perfCpu = PerfCounts(data, "cpu", f => int.Parse(f[0], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
        var cpuRows = Csv("--separate=cpu", data);
        var ourCpu = cpuRows.GroupBy(r => r["cpu"]).ToDictionary(g => g.Key, g => g.Sum(r => long.Parse(r["samples"], CultureInfo.InvariantCulture)));
        Assert.Equal(perfCpu.OrderBy(kv => kv.Key, StringComparer.Ordinal), ourCpu.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        var symCpu = Csv("-l", "--separate=cpu", data);
        Assert.Equal("0", symCpu.Where(r => r["symbol"] == "spin_a").MaxBy(r => long.Parse(r["samples"], CultureInfo.InvariantCulture))!["cpu"]);
        Assert.Equal("1", symCpu.Where(r => r["image"] == "libc.so.6").MaxBy(r => long.Parse(r["samples"], CultureInfo.InvariantCulture))!["cpu"]);

        // Every separation adds up to the merged report, image by image.
        var merged = Csv(data).ToDictionary(r => r["image"], r => long.Parse(r["samples"], CultureInfo.InvariantCulture));
        foreach (var sep in new[] { "thread", "cpu", "all" })
        {
            var sums = Csv("--separate=" + sep, data).GroupBy(r => r["image"]).ToDictionary(g => g.Key, g => g.Sum(r => long.Parse(r["samples"], CultureInfo.InvariantCulture)));
            Assert.Equal(merged.OrderBy(kv => kv.Key, StringComparer.Ordinal), sums.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        // --merge undoes --separate.
        Assert.Equal(Cli.Run("opreport", data).Stdout, Cli.Run("opreport", "--separate=all", "--merge=all", data).Stdout);

        // The XML of each separation validates against oprofile's schema.
        foreach (var args in new[] { new[] { "--separate=cpu" }, ["--separate=thread", "-d"], ["--separate=lib"], ["--separate=all", "-w"] })
            ValidateXml(Cli.Run(["opreport", "--xml", .. args, data]));
    }

    [PerfFact]
    public void SeparateLib_ShowsLibcUnderTheProgram()
    {
        if (RecordTwoThreads() is not { } data) return;
        var merged = Cli.Run("opreport", "--no-error-bars", data);
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.Matches(@"(?m)^ +\d+ +[\d.]+ libc\.so\.6\r?$", merged.Stdout); // an image of its own

        var lib = Cli.Run("opreport", "--no-error-bars", "--separate=lib", data);
        output.WriteLine(lib.Stdout);
        var lines = lib.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int app = lines.FindIndex(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +\d+ +[\d.]+ two$"));
        Assert.True(app >= 0, "no application line for the program");
        // Below it: the column header again, indented by a tab, then the program's images, libc among them.
        Assert.StartsWith("\t", lines[app + 1]);
        var subRows = lines.Skip(app + 4).TakeWhile(l => l.StartsWith('\t')).ToList();
        Assert.Contains(subRows, l => l.EndsWith(" libc.so.6", StringComparison.Ordinal));
        Assert.Contains(subRows, l => l.EndsWith(" two", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +\d+ +[\d.]+ libc\.so\.6$"));
        // The application's total is what its sub-rows add up to.
        long total = long.Parse(lines[app].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        Assert.Equal(total, subRows.Sum(l => long.Parse(l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture)));

        // -l: an app name column, libc's symbols counted under the program.
        var rows = Csv("-l", "--separate=lib", data);
        Assert.Contains(rows, r => r["image"] == "libc.so.6" && r["app"] == "two");
        var sym = Cli.Run("opreport", "-l", "--separate=lib", data).Stdout;
        Assert.Contains("app name", sym);
    }

    [RootFact]
    public void RecordSeparate_IsTheReportsDefault_AndMergeUndoesIt()
    {
        if (CompileTwoThreads() is not { } bin) return;
        var dir = Path.Combine(_dir, "session");
        var rec = Cli.Run("record", "--session-dir", dir, "--separate=thread", "--", bin);
        Assert.True(rec.ExitCode == 0, rec.Stderr);
        var sep = Cli.Run("opreport", "--session-dir", dir);
        Assert.True(sep.ExitCode == 0, sep.Stderr);
        // Two threads of one process: a column per thread, named by tid.
        Assert.Equal(2, sep.Stdout.Split('\n').Count(l => l.StartsWith("Processes with a thread ID of ", StringComparison.Ordinal)));
        var csv = Csv("--session-dir", dir);
        Assert.Contains("tgid", csv[0].Keys);
        Assert.Contains("tid", csv[0].Keys);
        Assert.DoesNotContain("cpu", csv[0].Keys);
        var merged = Cli.Run("opreport", "--session-dir", dir, "--merge=tid");
        Assert.DoesNotContain("Processes with a thread ID", merged.Stdout);
        Assert.Equal(merged.Stdout, Cli.Run("opreport", "--session-dir", dir, "--separate=none").Stdout);
    }

    [Fact]
    public void NetTrace_ThreadColumnsAddUpToTheMergedTotals()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        var trace = Path.Combine(_dir, "burner-2s.nettrace");
        File.Copy(Path.Combine(d!.FullName, "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace"), trace);
        var merged = Csv("-l", trace).GroupBy(r => (r["event"], r["image"], r["symbol"]))
            .ToDictionary(g => g.Key, g => g.Sum(r => long.Parse(r["samples"], CultureInfo.InvariantCulture)));
        var byThread = Csv("-l", "--separate=thread", trace);
        Assert.Contains(byThread, r => r["tid"].Length > 0);
        var sums = byThread.GroupBy(r => (r["event"], r["image"], r["symbol"]))
            .ToDictionary(g => g.Key, g => g.Sum(r => long.Parse(r["samples"], CultureInfo.InvariantCulture)));
        Assert.Equal(merged.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal),
            sums.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal));
        ValidateXml(Cli.Run("opreport", "--xml", "--separate=all", trace));
    }

    [Theory]
    [InlineData("--merge=foo", "--merge=foo: unknown value 'foo'")]
    [InlineData("--separate=threads", "--separate=threads: unknown value 'threads'")]
    public void BadSeparationValues_AreUserErrors(string option, string message)
    {
        var r = Cli.Run("opreport", option);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Theory]
    [InlineData("thread", null, Separation.Tgid | Separation.Tid)]
    [InlineData("kernel", null, Separation.Lib | Separation.Kernel)]
    [InlineData("all", "tid", Separation.Lib | Separation.Kernel | Separation.Tgid | Separation.Cpu)]
    [InlineData("all", "tgid", Separation.Lib | Separation.Kernel | Separation.Cpu)]
    [InlineData("all", "lib,cpu", Separation.Thread)]
    [InlineData("cpu,none,lib", "unitmask", Separation.Lib | Separation.MergedUnitMasks)]
    [InlineData("all", "all", Separation.MergedUnitMasks)]
    public void SeparateLessMerge_FollowsOprofilesRules(string separate, string? merge, Separation expected) =>
        Assert.Equal(expected, Separations.Merge(Separations.Parse(separate), merge));

    private void ValidateXml(Cli.Result xml)
    {
        Assert.True(xml.ExitCode == 0, xml.Stderr);
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => p.Length > 0 && File.Exists(Path.Combine(p, "xmllint"))))
        {
            output.WriteLine("SKIPPED schema validation: xmllint is not installed (apt-get install -y libxml2-utils)");
            return;
        }
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        var file = Path.Combine(_dir, "report.xml");
        File.WriteAllText(file, xml.Stdout);
        var psi = new ProcessStartInfo("xmllint", ["--noout", "--schema", Path.Combine(d!.FullName, "tests", "Reporter.Tests", "Data", "xml", "opreport.xsd"), file])
            { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }
}
