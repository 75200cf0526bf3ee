using System.IO.Compression;
using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>xenoprof flame FILE --format folded</c> gives what <c>perf script | stackcollapse-perf.pl</c> gives: on perf script
/// text, byte for byte against FlameGraph's corpus through the command line with each option set its results cover;
/// on a perf.data recorded here, against our perf-script folder run on <c>perf script</c>'s text of the same file.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class FoldedPerfTests(ITestOutputHelper output)
{
    private static string DataDir
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) return Path.Combine(d.FullName, "tests", "Sampler.Tests", "Data", "perf-script");
            throw new DirectoryNotFoundException("repository root (XenProf.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>(input, expected, flags) for every FlameGraph result (HEAD's output where it differs) and every default-option one.</summary>
    public static IEnumerable<object[]> Corpus()
    {
        var fg = Path.Combine(DataDir, "flamegraph");
        foreach (var dirName in new[] { "expected", "expected-default-at-HEAD" })
            foreach (var e in Directory.GetFiles(Path.Combine(fg, dirName)).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(e);
                var plain = name.EndsWith(".gz", StringComparison.Ordinal) ? name[..^3] : name;
                int at = plain.LastIndexOf("-collapsed", StringComparison.Ordinal);
                var opt = plain[(at + 10)..^4].TrimStart('-');
                var head = Directory.GetFiles(Path.Combine(fg, "expected-at-HEAD"), name).FirstOrDefault();
                var input = Directory.GetFiles(Path.Combine(fg, "inputs"), plain[..at] + ".txt*").Single();
                yield return [Path.GetRelativePath(DataDir, input), Path.GetRelativePath(DataDir, head ?? e), opt];
            }
    }

    private static byte[] Bytes(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return File.ReadAllBytes(path);
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void FlameFolded_OnPerfScriptText_EqualsStackcollapsePerf(string input, string expected, string option)
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-folded-").FullName;
        try
        {
            var text = Path.Combine(dir, "in.txt");
            File.WriteAllBytes(text, Bytes(Path.Combine(DataDir, input)));
            var outFile = Path.Combine(dir, "out.folded");
            var args = new List<string> { "flame", text, "--format", "folded", "-o", outFile };
            if (option.Length > 0) args.Add("--" + option);
            var r = Cli.Run([.. args]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.False(Directory.Exists(text + ".xenoprof"), "perf script text is folded without an import");
            var want = Bytes(Path.Combine(DataDir, expected));
            var got = File.ReadAllBytes(outFile);
            Assert.True(want.AsSpan().SequenceEqual(got), $"{input} --{option}: {FirstDifference(want, got)}");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A bare <c>--pid</c> before the trace file is stackcollapse-perf.pl's flag, and <c>--pid N</c> still filters.</summary>
    [Fact]
    public void BarePid_BeforeTheFile_IsTheFlag_AndANumberFilters()
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-folded-").FullName;
        try
        {
            var text = Path.Combine(dir, "in.txt");
            File.WriteAllBytes(text, Bytes(Path.Combine(DataDir, "flamegraph", "inputs", "perf-iperf-stacks-pidtid-01.txt.gz")));
            var r = Cli.Run("flame", "--pid", text, "--format", "folded", "-o", Path.Combine(dir, "pid.folded"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(Bytes(Path.Combine(DataDir, "flamegraph", "expected", "perf-iperf-stacks-pidtid-01-collapsed-pid.txt.gz")), File.ReadAllBytes(Path.Combine(dir, "pid.folded")));
            // A number filters (through the imported session, same rules): only process 28735's samples, the same stacks.
            var f = Cli.Run("flame", text, "--pid", "28735", "--format", "folded", "-o", Path.Combine(dir, "one.folded"));
            Assert.True(f.ExitCode == 0, f.Stderr);
            var lines = File.ReadAllLines(Path.Combine(dir, "one.folded"));
            var want = System.Text.Encoding.Latin1.GetString(Bytes(Path.Combine(DataDir, "flamegraph", "expected", "perf-iperf-stacks-pidtid-01-collapsed-pid.txt.gz")))
                .Split('\n').Where(l => l.StartsWith("iperf-28735;", StringComparison.Ordinal)).Select(l => "iperf;" + l[12..]).Order(StringComparer.Ordinal);
            Assert.Equal(want, lines);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Records the workload, folds <c>perf script</c>'s text of it with our perf-script folder (the stackcollapse-perf.pl
    /// rules, checked byte for byte in Sampler.Tests' FoldedConformanceTests) and compares with
    /// <c>xenoprof flame FILE --format folded</c> and the same flags. A count-mode event (-c), so every sample's period is
    /// the event's and the store's sums equal perf's. <c>--pid</c>/<c>--tid</c> are compared with perf script run with
    /// <c>-F comm,pid,tid,…</c>, the fields stackcollapse-perf.pl's usage asks for: perf script's default fields have no
    /// pid, which it writes as <c>?</c>.
    /// <para>
    /// Asserted: the totals are equal, and every stack of the workload and the kernel (symbols both tools read from the
    /// same ELF .symtab and kallsyms) is a line of ours, byte for byte. Stacks through ld.so, libc or
    /// the vdso are printed, not asserted: perf names ld.so's frames from libc6-dbg's debug files, prints .dynsym
    /// versions (<c>clock_gettime@@GLIBC_2.17</c>), picks other aliases for libc addresses (<c>__GI___libc_write</c>,
    /// <c>__brk</c>, <c>mmap64</c>) and names the vdso's symbols, which our symbolizer does not (yet).
    /// </para>
    /// </summary>
    [PerfRecordFact]
    [InlineData("")]
    [InlineData("--all")]
    [InlineData("--kernel")]
    [InlineData("--jit")]
    [InlineData("--addrs")]
    [InlineData("--weight samples")]
    [InlineData("--pid")]
    [InlineData("--tid")]
    public void FlameFolded_OnPerfData_EqualsPerfScriptFolded(string flags)
    {
        var rec = Recording.Value;
        if (rec.Skip != null) { output.WriteLine("skipped: " + rec.Skip); return; }
        var text = flags is "--pid" or "--tid" ? rec.TextWithPids : rec.Text;
        var o = new CollapseOptions
        {
            Kernel = flags is "--all" or "--kernel", Jit = flags is "--all" or "--jit", Addrs = flags == "--addrs",
            Pid = flags == "--pid", Tid = flags == "--tid", CountSamples = flags == "--weight samples",
        };
        var want = Fold(text, o);
        var wantShared = Fold(OnlyWorkloadStacks(text, Cli.Workload), o);

        var folded = Path.Combine(rec.Dir, "rec" + flags.Replace(' ', '_') + ".folded");
        var r = Cli.Run(["flame", rec.Data, "--format", "folded", "-o", folded, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var got = ParseFolded(File.ReadAllText(folded, Encoding.UTF8));
        Assert.Contains(got.Keys, k => k.EndsWith(";hot_sixty", StringComparison.Ordinal));
        foreach (var (k, n) in want.Where(kv => !got.TryGetValue(kv.Key, out var g) || g != kv.Value)) output.WriteLine($"perf only: {k} {n}");
        foreach (var (k, n) in got.Where(kv => !want.ContainsKey(kv.Key))) output.WriteLine($"ours only: {k} {n}");
        Assert.Equal(want.Values.Sum(), got.Values.Sum());
        Assert.NotEmpty(wantShared);
        // Each workload stack's line is perf's whole line: ld.so's own _start (a sample at the process's first
        // instruction) folds to the same "hotloop;_start" as the program's _start, so the line sums both.
        Assert.All(wantShared, kv => Assert.True(got.TryGetValue(kv.Key, out var g) && g == want[kv.Key], $"flame {flags}: missing '{kv.Key} {want[kv.Key]}'"));
    }

    // Threads named with spaces, one ending in a number ("worker two 1": stackcollapse-perf.pl reads the 1 as the
    // tid), a main thread renamed with parentheses, in a program whose path has a space.
    private const string ThreadsSource = """
        #include <pthread.h>
        #include <stdio.h>
        #include <sys/prctl.h>
        static volatile long sink;
        __attribute__((noinline)) long spin_a(long n) { long s = 0; for (long i = 0; i < n; i++) s += i * i; return s; }
        __attribute__((noinline)) long spin_b(long n) { long s = 0; for (long i = 0; i < n; i++) s ^= i * 31; return s; }
        static void *worker(void *arg) {
          long k = (long)arg; char name[16];
          snprintf(name, sizeof name, k ? "worker two %ld" : "worker one", k);
          prctl(PR_SET_NAME, name);
          for (int r = 0; r < 200; r++) sink += k ? spin_b(400000) : spin_a(400000);
          return 0;
        }
        int main(void) {
          prctl(PR_SET_NAME, "main (proc) x");
          pthread_t t[2];
          for (long k = 0; k < 2; k++) pthread_create(&t[k], 0, worker, (void *)k);
          for (int r = 0; r < 100; r++) sink += spin_a(300000);
          for (int k = 0; k < 2; k++) pthread_join(t[k], 0);
          printf("%ld\n", sink);
        }
        """;

    /// <summary>
    /// A multi-threaded program whose thread and program names have spaces, recorded here with <c>perf record -g</c>:
    /// <c>xenoprof flame FILE --format folded</c> equals, byte for byte and whole (every image), our perf-script folder
    /// (stackcollapse-perf.pl's rules) on <c>perf script</c>'s text of the same file: the root frames are the comm as the
    /// folder reads it back from perf script's event line, the frames split as it splits perf script's frame lines, and
    /// nothing is a recovered name that perf script would print <c>[unknown]</c>.
    /// </summary>
    [PerfRecordFact]
    [InlineData("")]
    [InlineData("--all")]
    [InlineData("--pid")]
    [InlineData("--tid")]
    public void FlameFolded_OnThreadsWithSpacedNames_EqualsPerfScriptFolded(string flags)
    {
        var rec = ThreadsRecording.Value;
        if (rec.Skip != null) { output.WriteLine("skipped: " + rec.Skip); return; }
        var text = flags is "--pid" or "--tid" ? rec.TextWithPids : rec.Text;
        var o = new CollapseOptions { Kernel = flags == "--all", Jit = flags == "--all", Pid = flags == "--pid", Tid = flags == "--tid" };
        var want = Collapse(Encoding.Latin1.GetBytes(text), o);
        var folded = Path.Combine(rec.Dir, "threads" + flags + ".folded");
        var r = Cli.Run(["flame", rec.Data, "--format", "folded", "-o", folded, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var got = File.ReadAllBytes(folded);
        var wantText = Encoding.UTF8.GetString(want);
        Assert.Contains(flags == "--tid" ? "worker_two-?/1;" : flags == "--pid" ? "worker_two-?;" : "worker_two;", wantText);
        Assert.Contains(";spin_a", wantText);
        Assert.True(want.AsSpan().SequenceEqual(got), $"flame {flags}: {FirstDifference(want, got)}");
    }

    private static readonly Lazy<Recorded> ThreadsRecording = new(() =>
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var exe = Path.Combine(dir, "my prog");
        File.WriteAllText(Path.Combine(dir, "threads.c"), ThreadsSource);
        var cc = PerfImportComparisonTests.Sh($"gcc -O2 -g -fno-omit-frame-pointer -pthread -o '{exe}' '{Path.Combine(dir, "threads.c")}'");
        if (cc.Code != 0) return new Recorded(dir, "", "", "", "gcc failed: " + cc.Err);
        var data = Path.Combine(dir, "threads.data");
        var rec = PerfImportComparisonTests.Sh($"perf record -B -g -e cpu-clock -c 250000 -o {data} -- '{exe}' > /dev/null");
        Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
        string Script(string fields)
        {
            var file = Path.Combine(dir, "threads" + fields.Length + ".perf.txt");
            var s = PerfImportComparisonTests.Sh($"perf script -i {data} {fields} > {file}");
            for (int attempt = 1; attempt < 3 && s.Code != 0; attempt++) s = PerfImportComparisonTests.Sh($"perf script -i {data} {fields} > {file}");
            Assert.True(s.Code == 0, $"perf script failed: {s.Err}");
            return File.ReadAllText(file, Encoding.Latin1);
        }
        return new Recorded(dir, data, Script(""), Script("-F comm,pid,tid,time,period,event,ip,sym,dso"), null);
    });

    private static Dictionary<string, long> Fold(string text, CollapseOptions o) =>
        ParseFolded(Encoding.Latin1.GetString(Collapse(Encoding.Latin1.GetBytes(text), o)));

    private static byte[] Collapse(byte[] text, CollapseOptions o)
    {
        var ms = new MemoryStream();
        PerfScriptCollapse.Collapse(new MemoryStream(text), ms, o);
        return ms.ToArray();
    }

    private static Dictionary<string, long> ParseFolded(string folded) =>
        folded.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.LastIndexOf(' ')], l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]), StringComparer.Ordinal);

    /// <summary>
    /// The samples of perf script <paramref name="text"/> that run in the workload or the kernel: every frame in
    /// <paramref name="workload"/> or <c>[kernel.kallsyms]</c>, except libc's start code outside the workload's
    /// outermost frame (<c>__libc_start_call_main</c>, named alike by both).
    /// </summary>
    private static string OnlyWorkloadStacks(string text, string workload)
    {
        var sb = new StringBuilder();
        foreach (var block in text.Split("\n\n"))
        {
            var frames = block.Split('\n').Skip(1).Where(l => l.Length > 0).ToList();
            int outer = frames.FindLastIndex(l => l.EndsWith("(" + workload + ")", StringComparison.Ordinal));
            if (outer < 0) continue;
            if (frames.Take(outer).All(l => l.EndsWith("(" + workload + ")", StringComparison.Ordinal) || l.EndsWith("([kernel.kallsyms])", StringComparison.Ordinal))
                && frames.Skip(outer + 1).All(l => l.Contains("__libc_start", StringComparison.Ordinal)))
                sb.Append(block).Append("\n\n");
        }
        return sb.ToString();
    }

    private sealed record Recorded(string Dir, string Data, string Text, string TextWithPids, string? Skip);

    /// <summary>One recording for all flag sets (perf runs are slow and must not overlap).</summary>
    private static readonly Lazy<Recorded> Recording = new(() =>
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, "rec.data");
        var rec = PerfImportComparisonTests.Sh($"perf record -B -g -e cpu-clock -c 250000 -o {data} -- {Cli.Workload}");
        if (rec.Code != 0 && rec.Err.Contains("perf_event", StringComparison.Ordinal))
            return new Recorded(dir, data, "", "", "perf_event is not available here: " + rec.Err);
        Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
        string Script(string fields)
        {
            var file = Path.Combine(dir, "rec" + fields.Length + ".perf.txt");
            // perf 6.1 here now and then aborts in util/build-id.c: a few attempts.
            var s = PerfImportComparisonTests.Sh($"perf script -i {data} {fields} > {file}");
            for (int attempt = 1; attempt < 3 && s.Code != 0; attempt++) s = PerfImportComparisonTests.Sh($"perf script -i {data} {fields} > {file}");
            Assert.True(s.Code == 0, $"perf script failed: {s.Err}");
            return File.ReadAllText(file, Encoding.Latin1);
        }
        return new Recorded(dir, data, Script(""), Script("-F comm,pid,tid,time,period,event,ip,sym,dso"), null);
    });

    private static string FirstDifference(byte[] want, byte[] actual)
    {
        var a = Encoding.Latin1.GetString(actual).Split('\n');
        var w = Encoding.Latin1.GetString(want).Split('\n');
        for (int i = 0; i < Math.Max(a.Length, w.Length); i++)
            if (i >= a.Length || i >= w.Length || a[i] != w[i])
                return $"line {i + 1}: want '{(i < w.Length ? w[i] : "(end)")}' got '{(i < a.Length ? a[i] : "(end)")}'";
        return "equal";
    }
}
